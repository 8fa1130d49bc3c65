package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.kit.SendRun;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import java.net.URI;
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
 * RELIABILITY.md M13 at build size: a publish run with receipts and a consumer with
 * client-individual acks, while the broker (a private RabbitMQ node with its STOMP plugin) is
 * killed with {@code kill -9} twice ({@code -Dparley.m13.kills}: M2's three make it M2 on STOMP).
 * Every message whose send got its receipt is consumed; the consumer may see a message twice
 * (at-least-once), never one nobody sent.
 */
class StompBrokerKillIT {

  private static final int MESSAGES = 20_000;
  private static final int IN_FLIGHT = 50;
  private static final int KILLS = Integer.getInteger("parley.m13.kills", 2);

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
  void receiptedMessagesSurviveBrokerKills() throws Exception {
    Destination.Queue queue = new Destination.Queue("stomp.kill.commands");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    try (StompTransport transport =
        StompTransport.builder(
                URI.create("stomp://guest:guest@127.0.0.1:" + node.stompPort() + "/"))
            .sendTimeout(Duration.ofSeconds(3))
            .heartbeat(Duration.ofSeconds(1))
            .reconnectInterval(Duration.ofMillis(250))
            .closeTimeout(Duration.ofSeconds(5))
            .build()) {
      transport.subscribe(
          queue,
          new ConsumerSettings(1, 100, false),
          DeliveryHandler.settling(
              d -> {
                deliveries.incrementAndGet();
                consumed.add(d.message().id());
                return CompletableFuture.completedFuture(null);
              }));
      SendRun run =
          SendRun.start(
              transport,
              queue,
              MESSAGES,
              IN_FLIGHT,
              Duration.ofSeconds(120),
              transport::isConnected);
      for (int kill = 1; kill <= KILLS; kill++) {
        int target = MESSAGES * kill / (KILLS + 3);
        long recovered = kill - 1L;
        // Each kill lands in the flow of a connected run: after the recovery from the one before.
        await().atMost(Duration.ofSeconds(60)).until(() -> transport.reconnects() >= recovered);
        await().atMost(Duration.ofSeconds(60)).until(() -> run.confirmed() >= target);
        node.kill(); // while sends are in flight
        node.start();
      }
      run.await(Duration.ofSeconds(180));
      Map<String, SendRun.Outcome> outcome = run.outcomes();

      List<String> receiptedIds = run.confirmedIds();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(consumed).containsAll(receiptedIds));
      System.out.printf(
          "STOMP broker kills: sent=%d receipted=%d failed=%d %s consumed=%d deliveries=%d"
              + " reconnects=%d%n",
          outcome.size(),
          run.confirmed(),
          run.failed(),
          run.failureCodes(),
          consumed.size(),
          deliveries.get(),
          transport.reconnects());
      assertThat(consumed).as("consumed but never sent").allMatch(outcome::containsKey);
      assertThat(transport.reconnects())
          .as("reconnects seen by the client")
          .isGreaterThanOrEqualTo(KILLS);
      assertThat(run.failed()).as("sends that failed while the broker was down").isPositive();
      assertThat(run.failureCodes().keySet())
          .as("every failed send failed with a transport error code")
          .isSubsetOf(
              "parley.transport.connection_lost",
              "parley.transport.unavailable",
              dev.parley.transport.spi.Transport.SEND_TIMEOUT);
    }
  }
}
