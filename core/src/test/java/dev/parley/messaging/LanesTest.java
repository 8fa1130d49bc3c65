package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Settlement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dispatcher's lanes, without a broker: order per key, concurrency across keys, settlement. */
class LanesTest {

  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private final Map<String, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
  private final List<String> started = new CopyOnWriteArrayList<>();
  private final List<String> settled = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** Each delivery's stage stays open until the test completes it. */
  private Lanes lanes(boolean partitioned) {
    return new Lanes(
        partitioned,
        pool,
        (delivery, settlement) -> {
          String id = delivery.message().id();
          started.add(id);
          return pending.computeIfAbsent(id, k -> new CompletableFuture<>());
        });
  }

  @Test
  void aKeysNextMessageWaitsForTheOneBeforeItWhileOtherKeysRun() {
    Lanes lanes = lanes(true);
    lanes.onDelivery(delivery("a1", "a"), settlement("a1"));
    lanes.onDelivery(delivery("a2", "a"), settlement("a2"));
    lanes.onDelivery(delivery("b1", "b"), settlement("b1"));

    await().atMost(Duration.ofSeconds(5)).until(() -> started.size() == 2);
    assertThat(started).containsExactlyInAnyOrder("a1", "b1");
    assertThat(lanes.activeKeys()).isEqualTo(2);

    complete("a1");
    await().atMost(Duration.ofSeconds(5)).until(() -> started.contains("a2"));
    complete("b1");
    complete("a2");
    await().atMost(Duration.ofSeconds(5)).until(() -> settled.size() == 3);
    assertThat(settled).containsExactlyInAnyOrder("ack a1", "ack a2", "ack b1");
    assertThat(settled.indexOf("ack a1")).isLessThan(settled.indexOf("ack a2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> lanes.activeKeys() == 0);
  }

  @Test
  void unpartitionedDeliveriesRunAsTheyCome() {
    Lanes lanes = lanes(false);
    lanes.onDelivery(delivery("x1", "a"), settlement("x1"));
    lanes.onDelivery(delivery("x2", "a"), settlement("x2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> started.size() == 2);
    pending.get("x2").completeExceptionally(new IllegalStateException("not recorded"));
    complete("x1");
    await().atMost(Duration.ofSeconds(5)).until(() -> settled.size() == 2);
    assertThat(settled).containsExactlyInAnyOrder("ack x1", "requeue x2");
  }

  @Test
  void aWithdrawnDeliveryIsNotStarted() {
    Lanes lanes = lanes(true);
    AtomicBoolean withdrawn = new AtomicBoolean();
    lanes.onDelivery(delivery("a1", "a"), settlement("a1"));
    lanes.onDelivery(delivery("a2", "a"), withdrawable("a2", withdrawn));
    await().atMost(Duration.ofSeconds(5)).until(() -> started.size() == 1);
    withdrawn.set(true); // the consumer stopped while a2 waited behind a1
    complete("a1");
    await().atMost(Duration.ofSeconds(5)).until(() -> settled.size() == 2);
    assertThat(started).containsExactly("a1");
    assertThat(settled).containsExactly("ack a1", "requeue a2");
  }

  @Test
  void aProcessThatThrowsAnErrorGivesItsDeliveryBackAndFreesItsKey() {
    Lanes lanes =
        new Lanes(
            true,
            pool,
            (delivery, settlement) -> {
              started.add(delivery.message().id());
              if (delivery.message().id().equals("a1")) {
                throw new StackOverflowError();
              }
              return CompletableFuture.completedFuture(null);
            });
    lanes.onDelivery(delivery("a1", "a"), settlement("a1"));
    lanes.onDelivery(delivery("a2", "a"), settlement("a2"));
    await().atMost(Duration.ofSeconds(5)).until(() -> settled.size() == 2);
    assertThat(settled).containsExactly("requeue a1", "ack a2");
    assertThat(lanes.activeKeys()).isZero();
  }

  private void complete(String id) {
    pending.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(null);
  }

  private static Delivery delivery(String id, String key) {
    Message m =
        Message.builder().id(id).header(Headers.PARTITION_KEY, key).payload(new byte[0]).build();
    return new Delivery(m, new Destination.Queue("q"), 1);
  }

  private Settlement settlement(String id) {
    return withdrawable(id, new AtomicBoolean());
  }

  private Settlement withdrawable(String id, AtomicBoolean withdrawn) {
    return new Settlement() {
      @Override
      public void ack() {
        settled.add("ack " + id);
      }

      @Override
      public void requeue() {
        settled.add("requeue " + id);
      }

      @Override
      public void reject() {
        settled.add("reject " + id);
      }

      @Override
      public boolean isWithdrawn() {
        return withdrawn.get();
      }
    };
  }
}
