package dev.parley.transport.stomp;

import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.InFlight;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Settlement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One STOMP subscription with {@code client-individual} acks. Messages are pushed to the handler on
 * the connection's reader thread and settled from any thread; {@code worker} only re-subscribes
 * (Artemis's way of giving a message back), which waits for a receipt. Each (re)subscription gets a
 * new subscription id, so frames of an earlier one (before a reconnect or a release) are recognised
 * and never acknowledged: the broker gives those back by itself.
 */
final class StompConsumer {

  private static final Logger log = LoggerFactory.getLogger(StompConsumer.class);

  /** A release repeats with every redelivery: bounded, so no message can flood the log. */
  private static final LogLimiter RELEASES = LogLimiter.of(10, 10);

  private final DefaultStompTransport transport;
  private final String baseId;
  private final Map<String, String> subscribeHeaders;
  private final Destination source;
  private final ExecutorService worker;
  private final DeliveryHandler handler;
  private final AtomicLong generation = new AtomicLong();
  private final InFlight inFlight = new InFlight();
  private volatile String currentId;
  private volatile StompClient attachedTo;
  private volatile boolean stopped;

  StompConsumer(
      DefaultStompTransport transport,
      String baseId,
      Map<String, String> subscribeHeaders,
      Destination source,
      ExecutorService worker,
      DeliveryHandler handler) {
    this.transport = transport;
    this.baseId = baseId;
    this.subscribeHeaders = subscribeHeaders;
    this.source = source;
    this.worker = worker;
    this.handler = handler;
  }

  /** Subscribes on {@code client}, waiting for the broker's receipt. */
  synchronized void attach(StompClient client) {
    if (stopped) {
      return;
    }
    String id = baseId + "." + generation.incrementAndGet();
    Map<String, String> h = new LinkedHashMap<>(subscribeHeaders);
    h.put("id", id);
    h.put("ack", "client-individual");
    transport.register(id, this);
    String previous = currentId;
    currentId = id;
    attachedTo = client;
    if (previous != null) {
      transport.unregister(previous);
    }
    transport.await(
        transport.withReceipt(client, StompFrame.of("SUBSCRIBE", h)), "subscribe to " + source);
  }

  /**
   * Called on the connection's reader thread: pushes the message to the handler at once, without
   * waiting for earlier ones (the subscription's prefetch bounds how many are unacknowledged).
   */
  void onMessage(StompFrame frame, String subscriptionId, StompClient from) {
    if (stopped || !subscriptionId.equals(currentId) || from != attachedTo) {
      return; // a frame of an earlier subscription: the broker gives it back by itself
    }
    String ack = frame.header("ack");
    Settlement settlement = inFlight.track(new Ack(from, subscriptionId, ack));
    try {
      handler.onDelivery(StompMessages.delivery(frame, source), settlement);
    } catch (RuntimeException e) {
      RELEASES.warn(log, "{}: delivery handler failed: {}", source, e.toString());
      settlement.requeue();
    }
  }

  /** Settles one message of one subscription id, while that subscription lasts. */
  private final class Ack implements Settlement {
    private final StompClient from;
    private final String subscriptionId;
    private final String ack;

    Ack(StompClient from, String subscriptionId, String ack) {
      this.from = from;
      this.subscriptionId = subscriptionId;
      this.ack = ack;
    }

    @Override
    public boolean isWithdrawn() {
      return stopped || !subscriptionId.equals(currentId) || from != attachedTo || !from.isOpen();
    }

    @Override
    public void ack() {
      if (ack == null || !subscriptionId.equals(currentId) || from != attachedTo) {
        return; // the subscription ended: the broker gave the message back
      }
      write(StompFrame.of("ACK", Map.of("id", ack)));
    }

    @Override
    public void requeue() {
      if (ack == null || isWithdrawn()) {
        return;
      }
      RELEASES.warn(log, "{}: a delivery was not handled; the broker delivers it again", source);
      if (transport.dialect0().nackRequeues()) {
        write(StompFrame.of("NACK", Map.of("id", ack)));
        return;
      }
      // Artemis drops a NACKed message: end the subscription instead (the broker then gives back
      // every message it had delivered to it, in order) and subscribe again. That waits for the
      // broker's receipt, so it runs on the consumer's own thread, never on the reader.
      try {
        worker.execute(() -> resubscribe(from, subscriptionId));
      } catch (RejectedExecutionException e) {
        // stopping: the subscription ends anyway
      }
    }

    @Override
    public void reject() {
      if (ack == null || isWithdrawn()) {
        return;
      }
      // Both brokers drop (or dead-letter, where configured) a NACKed message without requeue.
      write(StompFrame.of("NACK", Map.of("id", ack)));
    }

    private void write(StompFrame frame) {
      try {
        from.write(frame);
      } catch (RuntimeException e) {
        // the connection is gone: the broker redelivers what was not acknowledged
        log.debug("{}: cannot settle a delivery: {}", source, e.toString());
      }
    }
  }

  private void resubscribe(StompClient from, String subscriptionId) {
    synchronized (this) {
      if (stopped || from != attachedTo || !subscriptionId.equals(currentId)) {
        return;
      }
      try {
        from.write(StompFrame.of("UNSUBSCRIBE", Map.of("id", currentId)));
        attach(from);
      } catch (RuntimeException e) {
        log.debug("{}: resubscribing failed: {}", source, e.toString());
      }
    }
  }

  /**
   * Stops handing messages to the handler, waits up to {@code timeout} for the one in progress,
   * then ends the subscription: the broker gives back whatever was not acknowledged.
   */
  void stop(Duration timeout) {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    if (!inFlight.awaitIdle(timeout)) {
      log.debug(
          "{}: {} deliveries still being handled after {}", source, inFlight.count(), timeout);
    }
    StompClient client = attachedTo;
    String id = currentId;
    if (client != null && client.isOpen() && id != null) {
      try {
        transport.await(
            transport.withReceipt(client, StompFrame.of("UNSUBSCRIBE", Map.of("id", id))),
            "unsubscribe from " + source);
      } catch (RuntimeException e) {
        log.debug("{}: unsubscribe failed: {}", source, e.toString());
      }
    }
    if (id != null) {
      transport.unregister(id);
    }
  }

  boolean isStopped() {
    return stopped;
  }

  ExecutorService worker() {
    return worker;
  }
}
