package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.net.URI;
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
 * RELIABILITY.md M13 at build size: a publish run with receipts and a consumer with
 * client-individual acks, while the broker (a private RabbitMQ node with its STOMP plugin) is
 * killed with {@code kill -9} twice. Every message whose send got its receipt is consumed; the
 * consumer may see a message twice (at-least-once), never one nobody sent.
 */
class StompBrokerKillIT {

  private static final int MESSAGES = 2_000;
  private static final int IN_FLIGHT = 50;

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
  void receiptedMessagesSurviveTwoBrokerKills() throws Exception {
    Destination.Queue queue = new Destination.Queue("stomp.kill.commands");
    Map<String, String> outcome = new ConcurrentHashMap<>();
    AtomicInteger receipted = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    AtomicInteger invented = new AtomicInteger();
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
          d -> {
            deliveries.incrementAndGet();
            if (!outcome.containsKey(d.message().id())) {
              invented.incrementAndGet();
            }
            consumed.add(d.message().id());
            return CompletableFuture.completedFuture(null);
          });
      Semaphore window = new Semaphore(IN_FLIGHT);
      List<CompletableFuture<Void>> sends = new CopyOnWriteArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      CompletableFuture<Void> run =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < MESSAGES && System.nanoTime() < deadline; i++) {
                  if (failed.get() > 0 && !transport.isConnected()) {
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
                                  receipted.incrementAndGet();
                                } else {
                                  outcome.put(m.id(), "failed");
                                  failed.incrementAndGet();
                                }
                              }));
                }
              });
      for (int kill = 1; kill <= 2; kill++) {
        int target = MESSAGES * kill / 3;
        await().atMost(Duration.ofSeconds(60)).until(() -> receipted.get() >= target);
        node.kill();
        node.start();
      }
      run.get(120, TimeUnit.SECONDS);
      CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
          .exceptionally(e -> null)
          .get(60, TimeUnit.SECONDS);

      List<String> receiptedIds =
          outcome.entrySet().stream()
              .filter(e -> e.getValue().equals("ok"))
              .map(Map.Entry::getKey)
              .toList();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(consumed).containsAll(receiptedIds));
      System.out.printf(
          "STOMP broker kills: sent=%d receipted=%d failed=%d consumed=%d deliveries=%d"
              + " reconnects=%d%n",
          outcome.size(),
          receipted.get(),
          failed.get(),
          consumed.size(),
          deliveries.get(),
          transport.reconnects());
      assertThat(invented.get()).isZero();
      assertThat(transport.reconnects())
          .as("reconnects seen by the client")
          .isGreaterThanOrEqualTo(2);
      assertThat(failed.get()).as("sends that failed while the broker was down").isPositive();
    }
  }
}
