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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
      await().atMost(Duration.ofSeconds(60)).until(() -> run.confirmed() >= KILL_AFTER);
      int confirmedBeforeKill = run.confirmed();
      node.kill(); // while sends are in flight
      node.start();
      run.await(Duration.ofSeconds(180));
      assertThat(transport.reconnects()).as("reconnects seen by the client").isPositive();
      assertThat(run.failed()).as("sends that failed while the broker was down").isPositive();
      Map<String, SendRun.Outcome> outcome = run.outcomes();

      Set<String> consumed = ConcurrentHashMap.newKeySet();
      AtomicInteger invented = new AtomicInteger();
      TransportSubscription subscription =
          transport.subscribe(
              queue,
              new ConsumerSettings(1, 200, false),
              DeliveryHandler.settling(
                  d -> {
                    if (!d.message().id().equals("declare")
                        && !outcome.containsKey(d.message().id())) {
                      invented.incrementAndGet();
                    }
                    if (!d.message().id().equals("declare")) {
                      consumed.add(d.message().id());
                    }
                    return CompletableFuture.completedFuture(null);
                  }));
      List<String> confirmedIds = run.confirmedIds();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(consumed).containsAll(confirmedIds));
      subscription.close();
      System.out.printf(
          "broker kill: sent=%d confirmed=%d failed=%d consumed=%d (failed sends that arrived"
              + " all the same: %d) reconnects=%d%n",
          outcome.size(),
          run.confirmed(),
          run.failed(),
          consumed.size(),
          outcome.entrySet().stream()
              .filter(e -> e.getValue() == SendRun.Outcome.FAILED && consumed.contains(e.getKey()))
              .count(),
          transport.reconnects());
      assertThat(invented.get()).isZero();
      assertThat(run.confirmed() - confirmedBeforeKill)
          .as("confirmed after the kill")
          .isGreaterThan(KILL_AFTER);
    }
  }
}
