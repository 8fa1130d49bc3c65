package dev.parley.transport.stomp;

import dev.parley.error.BadInputException;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Message;
import dev.parley.transport.spi.DeadLetters;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.InFlight;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Settlement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final int prefetch;

  /**
   * Whether messages this subscription leaves unacknowledged must go back to the broker: false for
   * a subscription whose queue goes away with it (the members' announcements).
   */
  private final boolean givesBack;

  /**
   * Whether a reconnect subscribes it again on the new connection by itself: false for a partition
   * consumer, which its group takes again once no other member holds the partition (see {@link
   * DefaultStompTransport#reconnect}).
   */
  private final boolean restored;

  /**
   * Messages read and not yet handed to the handler, because {@code prefetch} are unsettled
   * (Artemis counts its window in bytes, so it may send more than that). Guarded by itself, with
   * {@link #handedOut}.
   */
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();

  private int handedOut;
  private final AtomicBoolean draining = new AtomicBoolean();
  private volatile String currentId;
  private volatile StompClient attachedTo;
  private volatile boolean stopped;

  /**
   * Set while the transport drops this consumer's connection to give back another subscription's
   * messages: nothing more is handed out, so what is being handled can finish and be acknowledged
   * before the drop (see {@link DefaultStompTransport#dropToGiveBack}).
   */
  private volatile boolean paused;

  /**
   * Set when the UNSUBSCRIBE is on its way. RabbitMQ answers a later ACK or NACK of the
   * subscription with an error and keeps its unacknowledged messages until the connection closes;
   * such messages are counted in {@link #stranded} instead.
   */
  private volatile boolean unsubscribing;

  /**
   * Held from the check that a settlement may still be written to its write, and while {@link
   * #unsubscribing} is set: so an ACK or NACK either goes out before the UNSUBSCRIBE or is counted
   * in {@link #stranded}. (A NACK that passed the check just before the flag was set and was
   * written just after the UNSUBSCRIBE was refused by RabbitMQ, which kept the message
   * unacknowledged on the connection for good: its partition stalled behind it.)
   */
  private final Object settling = new Object();

  /**
   * Set (under {@link #settling}) once {@link #stop} has counted {@link #stranded}: a message
   * stranded after that is given back by a drop of its own.
   */
  private boolean strandedChecked;

  /** Set while the consumer ends its subscription and makes a new one on the same connection. */
  private boolean resubscribing;

  private final java.util.concurrent.atomic.AtomicInteger stranded =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Messages too large to read whose copy to the dead-letter queue is on its way. */
  private final java.util.concurrent.atomic.AtomicInteger copying =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Messages too large to read, left unacknowledged at the broker (see onMessage). */
  private final java.util.concurrent.atomic.AtomicInteger heldUnread =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Such messages held by the connection for subscriptions of this consumer it has ended and made
   * again beside them ({@link #subscribeBesideHeld}): RabbitMQ keeps them, unacknowledged, until
   * the connection closes.
   */
  private final java.util.concurrent.atomic.AtomicInteger heldByEarlier =
      new java.util.concurrent.atomic.AtomicInteger();

  StompConsumer(
      DefaultStompTransport transport,
      String baseId,
      Map<String, String> subscribeHeaders,
      Destination source,
      ExecutorService worker,
      DeliveryHandler handler,
      int prefetch,
      boolean givesBack,
      boolean restored) {
    this.prefetch = prefetch;
    this.givesBack = givesBack;
    this.restored = restored;
    this.transport = transport;
    this.baseId = baseId;
    this.subscribeHeaders = subscribeHeaders;
    this.source = source;
    this.worker = worker;
    this.handler = handler;
  }

  /** What it consumes. */
  Destination source() {
    return source;
  }

  /** Subscribes on {@code client}, waiting for the broker's receipt. */
  synchronized void attach(StompClient client) {
    if (stopped || (client == attachedTo && currentId != null && !resubscribing)) {
      // Already subscribed on this connection (a reconnect restoring subscriptions met one that
      // was just made on the new connection): a second SUBSCRIBE would leave the first one's
      // messages unacknowledged and unseen.
      return;
    }
    String id = baseId + "." + generation.incrementAndGet();
    Map<String, String> h = new LinkedHashMap<>(subscribeHeaders);
    h.put("id", id);
    h.putIfAbsent("ack", "client-individual"); // "auto" for a reply queue
    transport.register(id, this);
    String previous = currentId;
    boolean sameConnection = client == attachedTo;
    currentId = id;
    attachedTo = client;
    // A new subscription. On a new connection the broker has taken back what the last one held;
    // on the same one (subscribeBesideHeld) the connection still holds it.
    int held = heldUnread.getAndSet(0);
    if (sameConnection) {
      heldByEarlier.addAndGet(held);
    } else {
      heldByEarlier.set(0);
    }
    if (previous != null) {
      transport.unregister(previous);
    }
    transport.await(
        transport.withReceipt(client, StompFrame.of("SUBSCRIBE", h)), "subscribe to " + source);
  }

  private record Pending(StompFrame frame, String subscriptionId, StompClient from) {}

  /**
   * Called on the connection's reader thread: hands the message to the handler at once, without
   * waiting for earlier ones, unless {@code prefetch} are unsettled; then it waits here, in order,
   * until one of them is settled.
   */
  void onMessage(StompFrame frame, String subscriptionId, StompClient from) {
    if (!subscriptionId.equals(currentId) || from != attachedTo) {
      log.debug(
          "{}: a message of subscription {} ignored (now {}, same connection: {})",
          source,
          subscriptionId,
          currentId,
          from == attachedTo);
      return; // a frame of an earlier subscription: the broker gives it back by itself
    }
    if (stopped) {
      synchronized (waiting) {
        handedOut++;
      }
      new Ack(from, subscriptionId, frame.header("ack")).requeue(); // NACK on RabbitMQ
      return;
    }
    if (frame.bodyNotRead() > 0) {
      if (frame.copied() != null) {
        settleOnceCopied(frame, subscriptionId, from);
        return;
      }
      if (!givesBack) {
        droppedReply(frame, subscriptionId, from);
        return;
      }
      if (leftAtTheBroker(frame, subscriptionId, from)) {
        return;
      }
    }

    synchronized (waiting) {
      waiting.add(new Pending(frame, subscriptionId, from));
    }
    drain();
  }

  /**
   * The SEND headers of the dead letter of a MESSAGE whose body is over the transport's frame limit
   * ({@code maxFrameBytes}; {@code length} bytes), which the reader then copies there whole as it
   * goes past the body (DefaultStompTransport#copyLargeMessage): the message's headers with the
   * error headers every dead letter has ({@link DeadLetters}), code {@code
   * parley.message.too_large}. Null where such a message is not copied: on a reply subscription
   * (the broker took it as acknowledged; it is dropped), on a dead-letter queue (there is none
   * behind it: it is left there, see leftAtTheBroker), for a subscription that has ended. Called on
   * the connection's reader thread, before {@link #onMessage}.
   */
  Map<String, String> deadLetterCopy(Map<String, String> frameHeaders, long length) {
    if (stopped
        || !givesBack // a reply subscription's
        || frameHeaders.get("ack") == null
        || !frameHeaders.get("subscription").equals(currentId)
        || (source instanceof Destination.Queue q
            && q.name().endsWith(Destination.DEAD_LETTER_SUFFIX))) {
      return null;
    }
    StompFrame frame = new StompFrame("MESSAGE", new LinkedHashMap<>(frameHeaders), null, null, 0);
    Message message = StompMessages.delivery(frame, source, transport.dialect0()).message();
    Message dead =
        DeadLetters.of(
            message,
            DeadLetters.TOO_LARGE,
            "a body of "
                + length
                + " bytes, more than a frame may have here (StompTransport.Builder.maxFrameBytes"
                + " "
                + transport.maxFrameBytes()
                + "): dead-lettered whole by the transport, not handled",
            BadInputException.class.getName(),
            source.channel(),
            transport.address(source),
            StompMessages.deliveryCount(frame),
            System.currentTimeMillis());
    try {
      return transport.dialect0().sendHeaders(source.deadLetter(), dead, Duration.ZERO, true);
    } catch (BadInputException e) {
      return null; // a header the broker would refuse the copy for: the older way
    }
  }

  /**
   * A message too large to read whose copy went to its dead-letter queue: acknowledged once the
   * broker has the copy (a copy and the message both kept for a moment, never neither). A copy that
   * failed leaves the message to the older way: left at RabbitMQ, dead-lettered without its body on
   * Artemis.
   */
  private void settleOnceCopied(StompFrame frame, String subscriptionId, StompClient from) {
    copying.incrementAndGet();
    RELEASES.warn(
        log,
        "{}: a message of {} bytes dead-lettered whole, not handled: more than the {} a frame may"
            + " have here (StompTransport.Builder.maxFrameBytes)",
        source,
        frame.bodyNotRead(),
        transport.maxFrameBytes());
    frame
        .copied()
        .whenComplete(
            (ok, failure) -> {
              copying.decrementAndGet();
              if (failure == null) {
                if (acknowledgeUnhanded(from, subscriptionId, frame.header("ack"))) {
                  tellHandler(frame, false);
                } else {
                  // The subscription ended meanwhile: the broker delivers the message again, it is
                  // copied again (a second copy in the dead-letter queue) and counted then, once.
                  log.debug("{}: a copied large message not acknowledged; it comes again", source);
                }
                return;
              }
              RELEASES.warn(
                  log, "{}: the copy of a large message failed: {}", source, failure.toString());
              if (stopped || leftAtTheBroker(frame, subscriptionId, from)) {
                return;
              }
              synchronized (waiting) {
                waiting.add(new Pending(frame, subscriptionId, from));
              }
              drain();
            });
  }

  /**
   * A reply larger than the transport reads: dropped — acknowledged where the subscription takes
   * acknowledgements (Artemis's; on RabbitMQ a reply subscription has none) — and the call it
   * answers told ({@link DeliveryHandler#onDropped}), so that its caller fails at once rather than
   * at its deadline. Until 7 December 2026 Artemis's went the way of any large message, copied to a
   * dead-letter queue made for the reply queue, which nobody reads.
   */
  private void droppedReply(StompFrame frame, String subscriptionId, StompClient from) {
    RELEASES.warn(
        log,
        "{}: a reply of {} bytes dropped, its call failed: more than the {} a frame may have here"
            + " (StompTransport.Builder.maxFrameBytes)",
        source,
        frame.bodyNotRead(),
        transport.maxFrameBytes());
    String ack = frame.header("ack");
    if (ack != null) {
      acknowledgeUnhanded(from, subscriptionId, ack);
    }
    tellHandler(frame, true);
  }

  /**
   * Acknowledges a message never handed out, counted as handed out first so that its settlement's
   * release balances (Ack#ack). Whether the ACK was written: not once the subscription has ended.
   */
  private boolean acknowledgeUnhanded(StompClient from, String subscriptionId, String ack) {
    synchronized (waiting) {
      handedOut++;
    }
    return new Ack(from, subscriptionId, ack).acknowledge();
  }

  /**
   * Tells the handler of a message dead-lettered here ({@link DeliveryHandler#onDeadLettered}): its
   * headers, and why, so that a request's caller hears of it.
   */
  private void tellHandler(StompFrame frame, boolean dropped) {
    try {
      DeliveryHandler.tellTooLarge(
          handler,
          StompMessages.delivery(
              new StompFrame("MESSAGE", frame.headers(), null, null, 0),
              source,
              transport.dialect0()),
          "a body of "
              + frame.bodyNotRead()
              + " bytes, more than the "
              + transport.maxFrameBytes()
              + " a message may have there",
          dropped);
    } catch (RuntimeException | Error e) {
      RELEASES.warn(log, "{}: delivery handler failed: {}", source, e.toString());
    }
  }

  /**
   * A message larger than the transport reads (maxFrameBytes), its body skipped — so one message
   * never closes the connection — and not copied to the dead-letter queue ({@link #deadLetterCopy}:
   * a dead-letter queue's subscription, no copy connection, no {@code content-length}, or a copy
   * that failed; a reply subscription's goes to {@link #droppedReply}). RabbitMQ: neither handled
   * nor acknowledged but left at the broker, which gives it back when this subscription or
   * connection ends (a NACK would bring it straight back, and the plugin's classic queues have no
   * dead-letter queue to reject it to): nothing is lost; it holds one of the subscription's {@code
   * prefetch-count}. Artemis counts a subscription's credit in bytes, so a message left there would
   * hold all of it and stop the subscription, its NACK discards and a subscription made again
   * brings the message straight back without counting a delivery: there it is dead-lettered as bad
   * input ({@code parley.message.too_large}) with its headers, its body not kept. A frame without
   * an {@code ack} header (the broker took it as acknowledged when it sent it) is dropped. Returns
   * whether it is left or dropped here rather than handed out. Once {@code prefetch} are left so on
   * RabbitMQ, the subscription is made again beside them ({@link #subscribeBesideHeld}).
   */
  private boolean leftAtTheBroker(StompFrame frame, String subscriptionId, StompClient from) {
    boolean autoAck = frame.header("ack") == null;
    boolean rabbit = transport.dialect0().nackRequeues();
    RELEASES.warn(
        log,
        "{}: a message of {} bytes {}: more than the {} a frame may have here"
            + " (StompTransport.Builder.maxFrameBytes)",
        source,
        frame.bodyNotRead(),
        autoAck
            ? "dropped"
            : rabbit ? "left unacknowledged at the broker" : "dead-lettered without its body",
        transport.maxFrameBytes());
    if (autoAck) {
      return true;
    }
    if (rabbit && heldUnread.incrementAndGet() >= prefetch) {
      try {
        worker.execute(() -> subscribeBesideHeld(from, subscriptionId));
      } catch (RejectedExecutionException e) {
        // stopping: the subscription ends anyway
      }
    }
    return rabbit;
  }

  /**
   * RabbitMQ: ends a subscription whose whole {@code prefetch-count} is held by messages too large
   * to read (left at the broker) and subscribes again on the same connection, so that the queue's
   * later messages flow. Until 7 December 2026 {@code prefetch} of them stopped the subscription
   * for as long as its connection lived — and again after every reconnect, as they come first: a
   * dead-letter queue's subscription (no copy is made there) read nothing more. Nothing of the
   * ended subscription crosses its {@code UNSUBSCRIBE}: the broker sends a subscription at most its
   * prefetch unacknowledged, and all of it is held, so every other message it sent was already
   * acknowledged and it sends nothing more. RabbitMQ keeps a cancelled subscription's
   * unacknowledged messages with the connection until it closes ({@link #heldByEarlier}; a stop
   * drops the connection to give them back), as its AMQP 0-9-1 consumer does for the same case.
   * Waits for the broker's receipt, so it runs on the consumer's own thread.
   */
  private void subscribeBesideHeld(StompClient from, String subscriptionId) {
    if (heldUnread.get() < prefetch || !from.isOpen()) {
      return; // a new subscription (its count starts again) or connection already
    }
    log.debug(
        "{}: subscription {} held by {} messages too large to read; subscribing again beside them",
        source,
        subscriptionId,
        heldUnread.get());
    resubscribe(from, subscriptionId); // only while it is still the current subscription
  }

  /**
   * Hands out waiting messages while fewer than {@code prefetch} are unsettled, one thread at a
   * time.
   */
  private void drain() {
    while (draining.compareAndSet(false, true)) {
      try {
        while (true) {
          Pending next;
          synchronized (waiting) {
            if (stopped || paused || handedOut >= prefetch || waiting.isEmpty()) {
              break;
            }
            next = waiting.poll();
            handedOut++;
          }
          dispatch(next);
        }
      } finally {
        draining.set(false);
      }
      synchronized (waiting) {
        if (stopped || paused || handedOut >= prefetch || waiting.isEmpty()) {
          return;
        }
      }
    }
  }

  private void dispatch(Pending p) {
    Settlement settlement =
        inFlight.track(new Ack(p.from(), p.subscriptionId(), p.frame().header("ack")));
    if (!p.subscriptionId().equals(currentId) || p.from() != attachedTo) {
      settlement.requeue(); // stale: the broker gives it back by itself
      return;
    }
    try {
      handler.onDelivery(
          StompMessages.delivery(p.frame(), source, transport.dialect0()), settlement);
    } catch (RuntimeException | Error e) { // a handler's Error must not end the dispatching thread
      RELEASES.warn(log, "{}: delivery handler failed: {}", source, e.toString());
      settlement.requeue();
    }
  }

  /** One handed-out message was settled: room for the next. */
  private void released() {
    synchronized (waiting) {
      handedOut--;
    }
    drain();
  }

  /** Settles one message of one subscription id, while that subscription lasts. */
  private final class Ack implements Settlement {
    private final StompClient from;
    private final String subscriptionId;
    private final String ack;

    /** The reply frame {@link #replyInOrder} encoded, not yet written. */
    private volatile byte[] reply;

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
      acknowledge();
    }

    /** {@link #ack()}: whether the ACK was written (not when the subscription had ended). */
    boolean acknowledge() {
      try {
        synchronized (settling) {
          if (!ofCurrentSubscription() || strandedOnRabbitMq()) {
            return false; // the subscription ended: the broker gave the message back
          }
          write(StompFrame.of("ACK", Map.of("id", ack)));
          return true;
        }
      } finally {
        write(null); // a reply not written with a frame above
        released();
      }
    }

    @Override
    public void requeue() {
      try {
        synchronized (settling) {
          if (!ofCurrentSubscription() || !from.isOpen() || strandedOnRabbitMq()) {
            return; // the subscription or the connection ended: the broker gave it back
          }
          if (transport.dialect0().nackRequeues()) {
            // RabbitMQ keeps a cancelled subscription's unacknowledged messages until the
            // connection closes: give back even those withdrawn by a stop, before the UNSUBSCRIBE.
            if (!stopped) {
              RELEASES.warn(
                  log, "{}: a delivery was not handled; the broker delivers it again", source);
            }
            write(StompFrame.of("NACK", Map.of("id", ack)));
            return;
          }
        }
        if (stopped) {
          return; // Artemis gives it back when the subscription ends
        }
        RELEASES.warn(log, "{}: a delivery was not handled; the broker delivers it again", source);
        write(null); // a reply goes before the UNSUBSCRIBE below
        // Artemis drops a NACKed message: end the subscription instead (the broker then gives
        // back every message it had delivered to it, in order) and subscribe again. That waits for
        // the broker's receipt, so it runs on the consumer's own thread, never on the reader.
        try {
          worker.execute(() -> resubscribe(from, subscriptionId));
        } catch (RejectedExecutionException e) {
          // stopping: the subscription ends anyway
        }
      } finally {
        write(null);
        released();
      }
    }

    @Override
    public void reject() {
      try {
        synchronized (settling) {
          if (ack == null || isWithdrawn()) {
            return;
          }
          // Both brokers drop (or dead-letter, where configured) a NACKed message without requeue.
          write(StompFrame.of("NACK", Map.of("id", ack)));
        }
      } finally {
        write(null);
        released();
      }
    }

    /**
     * Sends the reply on the connection that delivered the request, without a receipt, just before
     * the request's ACK — in the same write, so the pair costs one system call and reaches the
     * broker in one segment: the broker reads a connection's frames in order, so it has routed the
     * reply before it applies the ACK, and a connection lost in between loses the ACK too (the
     * request comes again). A SEND the broker refuses ends the connection, as it would with a
     * receipt. A settlement that writes no frame of its own (the subscription ended) still writes
     * the reply.
     */
    @Override
    public CompletableFuture<Void> replyInOrder(Destination.Queue replyTo, Message reply) {
      if (ack == null || unsubscribing || isWithdrawn()) {
        return null;
      }
      Map<String, String> headers;
      try {
        headers = transport.dialect0().sendHeaders(replyTo, reply, Duration.ZERO, false);
      } catch (IllegalArgumentException | BadInputException e) {
        return null; // the transport's own send reports it
      }
      if (!from.isOpen()) {
        return CompletableFuture.failedFuture(
            new TransportException(
                "parley.transport.connection_lost",
                "reply not sent: the connection is closed",
                null));
      }
      // Written with the ACK (or NACK) that follows, in one write: see write(StompFrame)
      this.reply = StompFrame.encode("SEND", headers, null, Payloads.shared(reply));
      return CompletableFuture.completedFuture(null);
    }

    /**
     * Whether this message can still be settled: its subscription is the consumer's current one.
     */
    private boolean ofCurrentSubscription() {
      return ack != null && subscriptionId.equals(currentId) && from == attachedTo;
    }

    /** Whether this settlement can no longer reach RabbitMQ (see {@link #unsubscribing}). */
    private boolean strandedOnRabbitMq() {
      if (unsubscribing
          && transport.dialect0().nackRequeues()
          && subscriptionId.equals(currentId)
          && from == attachedTo) {
        stranded.incrementAndGet();
        if (strandedChecked) {
          // stop() has already looked: RabbitMQ sent this one after answering the UNSUBSCRIBE
          transport.giveBackLater(from);
        }
        return true;
      }
      return false;
    }

    /**
     * Writes the settlement's frame, preceded in the same write by the reply {@link #replyInOrder}
     * encoded, if any; with a null frame, only that reply (a settlement that sends nothing still
     * sends the reply it was given, as if it had been written at once).
     */
    private void write(StompFrame frame) {
      byte[] pending = reply;
      reply = null;
      try {
        if (pending == null) {
          if (frame != null) {
            from.write(frame);
          }
        } else if (frame == null) {
          from.writeEncoded(pending);
        } else {
          from.writeEncoded(pending, frame.encode());
        }
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
        resubscribing = true;
        try {
          attach(from);
        } finally {
          resubscribing = false;
        }
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
    // Messages read but never handed out go back now (a NACK on RabbitMQ; Artemis takes them back
    // with the UNSUBSCRIBE below).
    List<Pending> never;
    synchronized (waiting) {
      never = List.copyOf(waiting);
      waiting.clear();
      handedOut += never.size(); // each requeue below counts itself out again
    }
    for (Pending p : never) {
      inFlight.track(new Ack(p.from(), p.subscriptionId(), p.frame().header("ack"))).requeue();
    }
    // On RabbitMQ, what was in flight or given back by NACK while stopping may still sit
    // unacknowledged on the channel (a NACKed message can come straight back to this subscription
    // and cross its UNSUBSCRIBE): only a new connection surely returns such messages to the queue.
    boolean handedOutAtStop =
        !never.isEmpty()
            || inFlight.count() > 0
            || heldUnread.get() > 0
            || heldByEarlier.get() > 0
            || copying.get() > 0;
    // Not once the connection is gone: the broker has taken back what it had not seen acknowledged.
    StompClient reading = attachedTo;
    if (!inFlight.awaitIdle(timeout, () -> reading != null && reading.isOpen())) {
      log.debug(
          "{}: {} deliveries still being handled after {}", source, inFlight.count(), timeout);
    }
    StompClient client = attachedTo;
    String id = currentId;
    boolean rabbit = transport.dialect0().nackRequeues();
    if (rabbit) {
      stranded.addAndGet(inFlight.count()); // still being handled: settled after the UNSUBSCRIBE
    }
    synchronized (settling) {
      unsubscribing = true; // an ACK or NACK being written goes out first
    }
    if (client != null && client.isOpen() && id != null) {
      try {
        transport.await(
            transport.withReceipt(client, StompFrame.of("UNSUBSCRIBE", Map.of("id", id))),
            "unsubscribe from " + source);
      } catch (RuntimeException e) {
        log.debug("{}: unsubscribe failed: {}", source, e.toString());
      }
      int strandedNow;
      synchronized (settling) {
        strandedChecked = true;
        strandedNow = stranded.get();
      }
      log.debug(
          "{}: subscription {} ended: {} withdrawn, {} handed out now, {} stranded",
          source,
          id,
          never.size(),
          handedOutCount(),
          strandedNow);
      if (rabbit && givesBack && (strandedNow > 0 || handedOutAtStop) && client.isOpen()) {
        // RabbitMQ delivered messages to this subscription that can no longer be given back on
        // this connection (they crossed the UNSUBSCRIBE, or were still being handled): only a new
        // connection returns them to the queue, in order, for the next consumer.
        log.info(
            "{}: {} message(s) crossed the unsubscribe (or were in flight); reconnecting to give them"
                + " back",
            source,
            stranded.get());
        transport.dropToGiveBack(client, this);
      }
    }
    if (id != null) {
      transport.unregister(id);
    }
  }

  private int handedOutCount() {
    synchronized (waiting) {
      return handedOut;
    }
  }

  /** Hands out nothing more until {@link #resume}. */
  void pause() {
    paused = true;
  }

  void resume() {
    paused = false;
    drain();
  }

  /** Waits until every message handed out is settled. */
  boolean awaitIdle(Duration timeout) {
    return inFlight.awaitIdle(timeout);
  }

  StompClient attachedTo() {
    return attachedTo;
  }

  boolean isStopped() {
    return stopped;
  }

  /** Whether a reconnect subscribes it again by itself (not a partition consumer). */
  boolean isRestored() {
    return restored;
  }

  ExecutorService worker() {
    return worker;
  }
}
