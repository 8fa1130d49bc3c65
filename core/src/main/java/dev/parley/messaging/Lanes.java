package dev.parley.messaging;

import dev.parley.message.Headers;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Settlement;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher between a transport and a subscription's chain, the same for every transport. It
 * takes deliveries as the transport pushes them (never blocking its thread) and runs each through
 * {@code process} on {@code executor}: the subscription's handler pool for a blocking handler, the
 * calling thread for an asynchronous one.
 *
 * <p>On a partitioned channel each partition key has a serial lane: a key's next delivery starts
 * only when the stage of the one before it completes — after its retries, however long they wait —
 * while other keys go on. Deliveries without a key, and every delivery of an unpartitioned channel,
 * run as they come, up to the executor's size at once. A delivery is settled when its stage
 * completes: acknowledged when it completes normally, given back to the broker when it fails. A
 * delivery the transport withdrew before it started (its consumer stopped, its connection dropped)
 * is not started. Thread-safe.
 */
final class Lanes implements DeliveryHandler {

  private static final Logger log = LoggerFactory.getLogger(Lanes.class);

  private final boolean partitioned;
  private final Executor executor;
  private final BiFunction<Delivery, Settlement, CompletionStage<Object>> process;

  /** Keys with a delivery in progress, and what waits behind it. Guarded by itself. */
  private final Map<String, ArrayDeque<Item>> lanes = new HashMap<>();

  /** What becomes of a message the transport dead-lettered itself ({@link #onDeadLettered}). */
  private final Consumer<Delivery> deadLettered;

  Lanes(
      boolean partitioned,
      Executor executor,
      BiFunction<Delivery, Settlement, CompletionStage<Object>> process) {
    this(partitioned, executor, process, delivery -> {});
  }

  Lanes(
      boolean partitioned,
      Executor executor,
      BiFunction<Delivery, Settlement, CompletionStage<Object>> process,
      Consumer<Delivery> deadLettered) {
    this.partitioned = partitioned;
    this.executor = executor;
    this.process = process;
    this.deadLettered = deadLettered;
  }

  private record Item(Delivery delivery, Settlement settlement) {}

  @Override
  public void onDelivery(Delivery delivery, Settlement settlement) {
    Item item = new Item(delivery, settlement);
    String key = partitioned ? delivery.message().headers().get(Headers.PARTITION_KEY) : null;
    if (key != null) {
      synchronized (lanes) {
        ArrayDeque<Item> waiting = lanes.get(key);
        if (waiting != null) {
          waiting.add(item); // the key is busy: wait behind it, in order
          return;
        }
        lanes.put(key, new ArrayDeque<>());
      }
    }
    submit(item, key);
  }

  /**
   * Runs {@code deadLettered} (the chain, for its interceptors, counters and the caller's failure
   * reply) on the executor, as a delivery: the reply can wait for the broker and an interceptor may
   * block where the handler may. Not in any lane: the message is settled and gone. Dropped when
   * closing.
   */
  @Override
  public void onDeadLettered(Delivery delivery) {
    try {
      executor.execute(
          () -> {
            try {
              deadLettered.accept(delivery);
            } catch (RuntimeException e) {
              log.warn(
                  "a dead letter of the transport could not be counted or answered",
                  dev.parley.transport.spi.Redaction.throwable(e));
            }
          });
    } catch (RejectedExecutionException e) {
      log.debug("closing: a dead letter of the transport not counted");
    }
  }

  /** Keys with a delivery in progress (for tests and metrics). */
  int activeKeys() {
    synchronized (lanes) {
      return lanes.size();
    }
  }

  private void submit(Item item, String key) {
    try {
      executor.execute(() -> run(item, key));
    } catch (RejectedExecutionException e) {
      // closing: give it back (and everything waiting behind it on this key)
      item.settlement().requeue();
      next(key);
    }
  }

  private void run(Item item, String key) {
    if (item.settlement().isWithdrawn()) {
      item.settlement().requeue(); // the broker delivers it again; nothing is sent for it
      next(key);
      return;
    }
    CompletionStage<Object> stage;
    try {
      stage = process.apply(item.delivery(), item.settlement());
    } catch (RuntimeException | Error e) {
      // An Error too: thrown on, it would end the thread with the delivery unsettled and the key
      // held for good.
      log.warn(
          "a delivery could not be handled; giving it back",
          dev.parley.transport.spi.Redaction.throwable(e));
      item.settlement().requeue();
      next(key);
      return;
    }
    stage.whenComplete(
        (result, failure) -> {
          if (failure == null) {
            item.settlement().ack();
          } else {
            item.settlement().requeue();
          }
          next(key);
        });
  }

  /** Starts the key's next delivery, or frees the key. */
  private void next(String key) {
    if (key == null) {
      return;
    }
    Item next;
    synchronized (lanes) {
      ArrayDeque<Item> waiting = lanes.get(key);
      next = waiting == null ? null : waiting.poll();
      if (next == null) {
        lanes.remove(key);
        return;
      }
    }
    submit(next, key);
  }
}
