package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.kit.SendRun;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * M2, publisher ambiguity: a private RabbitMQ node is killed ({@code kill -9}) and restarted three
 * times in the middle of a publish run: every message whose send completed (confirmed) is consumed
 * afterwards. Sends that failed may or may not arrive (an unknown outcome, told apart by the
 * message id, as an inbox would); none may be invented, and each failed with a transport error
 * code. The same node raises its memory alarm, which blocks publishing connections: sends must
 * fail, not hang. Full size: {@code -Dparley.m2.messages=20000} (the default) {@code
 * -Dparley.m2.kills=3}.
 */
class RabbitBrokerKillIT {

  private static final int MESSAGES = Integer.getInteger("parley.m2.messages", 20_000);

  private static final int KILLS = Integer.getInteger("parley.m2.kills", 3);

  /** A kill comes after each this many more confirms, while the run is in full flow. */
  private static final int KILL_AFTER = MESSAGES / (KILLS + 2);

  /** What a send may fail with while the broker dies and comes back: all of them typed. */
  private static final Set<String> KILL_FAILURES =
      Set.of(
          "parley.transport.connection_lost",
          "parley.transport.unavailable",
          dev.parley.transport.spi.Transport.SEND_TIMEOUT);

  private static final int IN_FLIGHT = 100;

  private static RabbitNode node;

  @BeforeAll
  static void startNode() {
    node = RabbitNode.startTemporary();
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aBrokerKilledDuringAPublishRunLosesNoConfirmedMessage() throws Exception {
    Destination.Queue queue = new Destination.Queue("kill.commands");
    try (RabbitTransport transport =
        RabbitTransport.builder(node.amqpUri("/"))
            .sendTimeout(Duration.ofSeconds(3))
            .recoveryInterval(Duration.ofMillis(250))
            .closeTimeout(Duration.ofSeconds(5))
            .build()) {
      // The queue exists before the run, as in production. (RabbitMQ 3.10 does not persist the
      // registration of a quorum queue created moments before a kill -9 at once: after the
      // restart such a queue times out every operation. A clean restart persists it.)
      transport
          .send(
              queue, Message.builder().id("declare").payload(new byte[0]).build(), SendOptions.NONE)
          .join();
      node.stop();
      node.start();
      await().atMost(Duration.ofSeconds(60)).until(transport::isConnected);
      SendRun run =
          SendRun.start(
              transport,
              queue,
              MESSAGES,
              IN_FLIGHT,
              Duration.ofSeconds(120),
              transport::isConnected);
      int confirmedBeforeLastKill = 0;
      for (int kill = 1; kill <= KILLS; kill++) {
        int after = kill * KILL_AFTER;
        await().atMost(Duration.ofSeconds(120)).until(() -> run.confirmed() >= after);
        confirmedBeforeLastKill = run.confirmed();
        long reconnectsBefore = transport.reconnects();
        node.kill(); // while sends are in flight
        node.start();
        await("the client reconnected after kill " + kill)
            .atMost(Duration.ofSeconds(60))
            .until(() -> transport.reconnects() > reconnectsBefore && transport.isConnected());
      }
      run.await(Duration.ofSeconds(240));
      assertThat(transport.reconnects())
          .as("reconnects seen by the client")
          .isGreaterThanOrEqualTo(KILLS);
      assertThat(run.failed()).as("sends that failed while the broker was down").isPositive();
      assertThat(run.failureCodes().keySet())
          .as("every failed send failed with a transport error code")
          .isSubsetOf(KILL_FAILURES);
      SendRun.Drained drained =
          run.drain(transport, queue, Duration.ofSeconds(60), Set.of("declare"));
      System.out.printf(
          "M2: kills=%d sent=%d confirmed=%d failed=%d %s %s reconnects=%d%n",
          KILLS,
          run.outcomes().size(),
          run.confirmed(),
          run.failed(),
          run.failureCodes(),
          drained,
          transport.reconnects());
      assertThat(drained.invented()).as("consumed but never sent").isZero();
      assertThat(run.confirmed() - confirmedBeforeLastKill)
          .as("confirmed after the last kill")
          .isGreaterThan(KILL_AFTER);
    }
  }

  /**
   * The node's memory alarm blocks publishing connections (RabbitMQ stops reading them). A send
   * must not hang on it: the sends written before RabbitMQ said so fail by the send timeout, and
   * once the connection is blocked every send fails at once with {@code
   * parley.transport.broker_blocked} and is never written. When the alarm clears, sends flow again,
   * and every confirmed one is consumed.
   */
  @Test
  void aMemoryAlarmFailsSendsInsteadOfHangingThemAndTheyFlowAgainAfterIt() throws Exception {
    Destination.Queue queue = new Destination.Queue("alarm.commands");
    Duration sendTimeout = Duration.ofSeconds(2);
    try (RabbitTransport transport =
        RabbitTransport.builder(node.amqpUri("/"))
            .sendTimeout(sendTimeout)
            .recoveryInterval(Duration.ofMillis(250))
            .closeTimeout(Duration.ofSeconds(5))
            .build()) {
      transport.send(queue, message("declare"), SendOptions.NONE).join();
      Set<String> confirmed = ConcurrentHashMap.newKeySet();
      Set<String> refusedAtOnce = ConcurrentHashMap.newKeySet();
      Map<String, String> otherOutcomes = new ConcurrentHashMap<>();
      AtomicInteger n = new AtomicInteger();
      node.ctl().run("set_vm_memory_high_watermark", "0");
      try {
        // Sends go on until one fails at once: the broker has told the client it is blocked.
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  String id = "during-" + n.incrementAndGet();
                  CompletableFuture<Void> send =
                      transport.send(queue, message(id), SendOptions.NONE);
                  if (send.isCompletedExceptionally()
                      && "parley.transport.broker_blocked".equals(errorCode(send))) {
                    refusedAtOnce.add(id);
                    return true;
                  }
                  // written before the client knew: it ends by the send timeout, whatever happens
                  send.handle((v, e) -> e)
                      .thenAccept(
                          e -> {
                            if (e == null) {
                              confirmed.add(id);
                            } else {
                              otherOutcomes.put(id, errorCode(e));
                            }
                          });
                  return false;
                });
        // The fault happened: the broker itself reports a blocked connection.
        assertThat(node.ctl().list("list_connections", "state")).contains("blocked");
        // While it lasts, every send fails at once, requests too, and is not written.
        for (int i = 0; i < 100; i++) {
          String id = "blocked-" + i;
          SendOptions options = i % 2 == 0 ? SendOptions.NONE : SendOptions.REQUEST;
          CompletableFuture<Void> send = transport.send(queue, message(id), options);
          assertThat(send).isCompletedExceptionally();
          assertThat(errorCode(send)).isEqualTo("parley.transport.broker_blocked");
          refusedAtOnce.add(id);
        }
        // Those written before it end by their send timeout, none later.
        await()
            .atMost(sendTimeout.plusSeconds(5))
            .until(() -> confirmed.size() + otherOutcomes.size() == n.get() - 1);
        assertThat(otherOutcomes.values())
            .containsOnly(dev.parley.transport.spi.Transport.SEND_TIMEOUT);
      } finally {
        node.ctl().run("set_vm_memory_high_watermark", "0.4");
      }
      // The alarm cleared: sends are confirmed again.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                String id = "after-" + n.incrementAndGet();
                boolean ok =
                    transport
                        .send(queue, message(id), SendOptions.NONE)
                        .handle((v, e) -> e == null)
                        .get(sendTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
                if (ok) {
                  confirmed.add(id);
                }
                return ok;
              });
      Set<String> consumed = ConcurrentHashMap.newKeySet();
      TransportSubscription subscription =
          transport.subscribe(
              queue,
              new ConsumerSettings(1, 200, false),
              DeliveryHandler.settling(
                  d -> {
                    consumed.add(d.message().id());
                    return CompletableFuture.completedFuture(null);
                  }));
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(consumed).containsAll(confirmed));
      subscription.close();
      System.out.printf(
          "memory alarm: %d sends before the client knew (%d confirmed later, %s), %d refused at"
              + " once; %d consumed%n",
          n.get(), confirmed.size(), otherOutcomes, refusedAtOnce.size(), consumed.size());
      assertThat(consumed).doesNotContainAnyElementsOf(refusedAtOnce);
    }
  }

  private static Message message(String id) {
    return Message.builder()
        .id(id)
        .payload(id.getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .build();
  }

  private static String errorCode(CompletableFuture<?> failed) {
    return errorCode(failed.handle((v, e) -> e).join());
  }

  private static String errorCode(Throwable t) {
    Throwable c =
        t instanceof java.util.concurrent.CompletionException && t.getCause() != null
            ? t.getCause()
            : t;
    return c instanceof dev.parley.error.ParleyException p ? p.errorCode() : c.toString();
  }
}
