package dev.parley.transport.stomp;

import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.LogLimiter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One STOMP subscription with {@code client-individual} acks, handled one message at a time on its
 * own worker thread. Each (re)subscription gets a new subscription id, so frames of an earlier one
 * (before a reconnect or a release) are recognised and never acknowledged: the broker gives those
 * back by itself.
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

  /** Called on the connection's reader thread. */
  void onMessage(StompFrame frame, String subscriptionId, StompClient from) {
    if (stopped) {
      return;
    }
    try {
      worker.execute(() -> handle(frame, subscriptionId, from));
    } catch (RejectedExecutionException e) {
      // stopping: the broker gives the message back when the subscription ends
    }
  }

  private void handle(StompFrame frame, String subscriptionId, StompClient from) {
    if (stopped || !subscriptionId.equals(currentId) || from != attachedTo || !from.isOpen()) {
      return;
    }
    String ack = frame.header("ack");
    boolean ok;
    try {
      Delivery delivery = StompMessages.delivery(frame, source);
      handler.onDelivery(delivery).toCompletableFuture().join();
      ok = true;
    } catch (RuntimeException e) {
      RELEASES.warn(
          log, "{}: delivery not recorded, releasing the message: {}", source, e.toString());
      ok = false;
    }
    if (ack == null) {
      return;
    }
    try {
      if (ok) {
        from.write(StompFrame.of("ACK", Map.of("id", ack)));
      } else {
        release(from, ack);
      }
    } catch (RuntimeException e) {
      // the connection is gone: the broker redelivers what was not acknowledged
      log.debug("{}: cannot settle a delivery: {}", source, e.toString());
    }
  }

  private void release(StompClient from, String ack) {
    if (transport.dialect0().nackRequeues()) {
      from.write(StompFrame.of("NACK", Map.of("id", ack)));
      return;
    }
    // Artemis drops a NACKed message: end the subscription instead (the broker then gives back
    // every message it had delivered to it, in order) and subscribe again.
    synchronized (this) {
      if (stopped || from != attachedTo) {
        return;
      }
      from.write(StompFrame.of("UNSUBSCRIBE", Map.of("id", currentId)));
      attach(from);
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
    try {
      CompletableFuture.runAsync(() -> {}, worker).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // already shut down
    } catch (Exception e) {
      log.debug("{}: handler still running after {}", source, timeout);
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
