package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A private RabbitMQ node is killed ({@code kill -9}) and restarted in the middle of a publish run:
 * every message whose send completed (confirmed) is consumed afterwards. Sends that failed or never
 * completed may or may not arrive (an unknown outcome); none may be invented.
 */
class RabbitBrokerKillIT {

  private static final int MESSAGES = 20_000;

  /** The kill comes after this many confirms, while the run is in full flow. */
  private static final int KILL_AFTER = 2_000;

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
    Map<String, String> outcome = new ConcurrentHashMap<>();
    AtomicInteger confirmed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
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
      Semaphore window = new Semaphore(IN_FLIGHT);
      List<CompletableFuture<Void>> sends = new CopyOnWriteArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      // The publish run, on a thread of its own so that the kill lands while sends are in flight.
      CompletableFuture<Void> run =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < MESSAGES && System.nanoTime() < deadline; i++) {
                  if (failed.get() > 0 && !transport.isConnected()) {
                    // Sends fail fast while the client is disconnected: go on once it is back.
                    await().atMost(Duration.ofSeconds(60)).until(transport::isConnected);
                  }
                  window.acquireUninterruptibly();
                  Message m =
                      Message.builder()
                          .payload(("m" + i).getBytes(StandardCharsets.US_ASCII))
                          .build();
                  outcome.put(m.id(), "unknown");
                  sends.add(
                      transport
                          .send(queue, m, SendOptions.NONE)
                          .whenComplete(
                              (ok, error) -> {
                                window.release();
                                if (error == null) {
                                  outcome.put(m.id(), "ok");
                                  confirmed.incrementAndGet();
                                } else {
                                  outcome.put(m.id(), "failed");
                                  failed.incrementAndGet();
                                }
                              }));
                }
              });
      await().atMost(Duration.ofSeconds(60)).until(() -> confirmed.get() >= KILL_AFTER);
      int confirmedBeforeKill = confirmed.get();
      node.kill();
      node.start();
      run.get(120, TimeUnit.SECONDS);
      CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
          .exceptionally(e -> null)
          .get(60, TimeUnit.SECONDS);
      assertThat(transport.reconnects()).as("reconnects seen by the client").isPositive();
      assertThat(failed.get()).as("sends that failed while the broker was down").isPositive();

      Set<String> consumed = ConcurrentHashMap.newKeySet();
      AtomicInteger invented = new AtomicInteger();
      TransportSubscription subscription =
          transport.subscribe(
              queue,
              new ConsumerSettings(1, 200, false),
              d -> {
                if (!d.message().id().equals("declare") && !outcome.containsKey(d.message().id())) {
                  invented.incrementAndGet();
                }
                if (!d.message().id().equals("declare")) {
                  consumed.add(d.message().id());
                }
                return CompletableFuture.completedFuture(null);
              });
      List<String> confirmedIds =
          outcome.entrySet().stream()
              .filter(e -> e.getValue().equals("ok"))
              .map(Map.Entry::getKey)
              .toList();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(consumed).containsAll(confirmedIds));
      subscription.close();
      System.out.printf(
          "broker kill: sent=%d confirmed=%d failed=%d consumed=%d (failed sends that arrived"
              + " all the same: %d) reconnects=%d%n",
          outcome.size(),
          confirmed.get(),
          failed.get(),
          consumed.size(),
          outcome.entrySet().stream()
              .filter(e -> e.getValue().equals("failed") && consumed.contains(e.getKey()))
              .count(),
          transport.reconnects());
      assertThat(invented.get()).isZero();
      assertThat(confirmed.get() - confirmedBeforeKill)
          .as("confirmed after the kill")
          .isGreaterThan(KILL_AFTER);
    }
  }
}
