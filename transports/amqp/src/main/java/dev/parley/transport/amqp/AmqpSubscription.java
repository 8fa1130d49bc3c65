package dev.parley.transport.amqp;

import dev.parley.message.Message;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.HandlerThread;
import dev.parley.transport.spi.InFlight;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Settlement;
import dev.parley.transport.spi.TransportSubscription;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.qpid.jms.message.JmsMessageSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code concurrency} consumers on one source, each on its own session with a receive loop on a
 * thread of its own. A consumer pushes each message to the handler at once and goes on receiving
 * while at most {@code prefetch} of its messages are unsettled (Qpid JMS tops up the broker's
 * credit as messages are received, not as they are settled, so the bound is kept here). A
 * settlement is one disposition: accepted, modified as failed (delivered again, delivery count + 1)
 * or rejected. Qpid JMS's acknowledge waits for its provider thread: on a handler pool's thread
 * ({@link HandlerThread}, where a blocking handler has just returned) it is made there and then;
 * from any other thread — the receive loop, a thread an asynchronous handler completed on, which
 * must not wait — it goes to the subscription's settle thread. Qpid JMS's individual acknowledge is
 * a request to its provider, safe from several threads; its sends are serialized by the session.
 *
 * <p>A reply to a request goes out on the same thread as the request's acknowledgement, on a
 * session of its own on the same connection, just before it ({@link Settlement#replyInOrder}): the
 * broker reads a connection's frames in order, so it has the reply before it applies the
 * acknowledgement, and a connection lost in between loses the acknowledgement too. Once a
 * delivery's reply or settlement went to the settle thread, the rest of it goes there too, so the
 * two never pass each other. The reply is sent without waiting for the broker's outcome
 * (non-persistent, as a JMS client sends it), so the request is settled without a round trip per
 * request.
 */
final class AmqpSubscription implements TransportSubscription {

  private static final Logger log = LoggerFactory.getLogger(AmqpSubscription.class);

  /** A release repeats with every redelivery: bounded, so no message can flood the log. */
  private static final LogLimiter RELEASES = LogLimiter.of(10, 10);

  /** Qpid JMS's acknowledge mode that settles one message at a time (not public in its API). */
  private static final int INDIVIDUAL_ACKNOWLEDGE = 101;

  /** An attach the broker refuses repeats with every try: bounded, as releases are. */
  private static final LogLimiter ATTACHES = LogLimiter.of(5, 60);

  /** The longest wait between two tries to attach a consumer the broker closed. */
  private static final long MAX_ATTACH_BACKOFF_MILLIS = 5_000;

  /** How long the loop waits for room in its window before it looks at whether it should stop. */
  private static final long POLL_MILLIS = 100;

  private static final AtomicInteger THREADS = new AtomicInteger();

  /** Replaced with the transport's connection ({@link #reopenOn}). */
  private volatile Connection connection;

  private final Destination source;
  private final ConsumerSettings settings;
  private final DeliveryHandler handler;
  private final Duration closeTimeout;
  private final BooleanSupplier linkUp;
  private final Consumer<AmqpSubscription> onClose;
  private final List<Thread> loops = new ArrayList<>();

  /** One per loop: its session and consumer, replaced when the broker closes them. */
  private final List<Lane> lanes = new CopyOnWriteArrayList<>();

  /** The loops waiting in a receive now: the only ones close() interrupts. */
  private final Set<Thread> receiving = new HashSet<>();

  private final InFlight inFlight = new InFlight();
  private final ExecutorService settler;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Replies' session and producer: opened on open. */
  private volatile ProducerLink replies;

  AmqpSubscription(
      Connection connection,
      Destination source,
      ConsumerSettings settings,
      DeliveryHandler handler,
      Duration closeTimeout,
      BooleanSupplier linkUp,
      Consumer<AmqpSubscription> onClose) {
    this.connection = connection;
    this.source = source;
    this.settings = settings;
    this.handler = handler;
    this.closeTimeout = closeTimeout;
    this.linkUp = linkUp;
    this.onClose = onClose;
    String address = AmqpAddresses.address(source);
    this.settler =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "parley-amqp-settle-" + address);
              t.setDaemon(true);
              return t;
            });
  }

  void open() {
    try {
      replies =
          new ProducerLink(
              connection,
              DeliveryMode.NON_PERSISTENT,
              "replies of " + AmqpAddresses.address(source));
      for (int i = 0; i < settings.concurrency(); i++) {
        Lane lane = new Lane();
        lanes.add(lane);
        lane.session = connection.createSession(false, INDIVIDUAL_ACKNOWLEDGE);
        lane.consumer = lane.session.createConsumer(AmqpAddresses.forSend(lane.session, source));
        Thread loop =
            new Thread(
                () -> receiveLoop(lane), "parley-amqp-consumer-" + THREADS.incrementAndGet());
        loop.setDaemon(true);
        loops.add(loop);
        loop.start();
      }
    } catch (org.apache.qpid.jms.JmsOperationTimedOutException e) {
      throw new dev.parley.error.TransportException(
          "parley.transport.unavailable",
          "the broker did not answer in time to consume from " + AmqpAddresses.address(source),
          e);
    } catch (JMSException e) {
      throw new dev.parley.error.TransportException(
          QpidAmqpTransport.securityRefusal(e)
              ? "parley.amqp.access_refused"
              : "parley.transport.subscribe_failed",
          "cannot consume from " + AmqpAddresses.address(source),
          e);
    }
  }

  private void receiveLoop(Lane lane) {
    Semaphore window = new Semaphore(settings.prefetch());
    while (!closed.get()) {
      try {
        if (!window.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
          continue;
        }
        jakarta.jms.Message jms;
        Thread self = Thread.currentThread();
        synchronized (receiving) {
          receiving.add(self);
        }
        try {
          if (closed.get()) {
            window.release();
            return; // close() may have looked for receiving loops before this one was among them
          }
          // Untimed: a timed receive of Qpid JMS that finds nothing drains the link's credit at
          // the broker and waits for its answer — a broker round trip per lane every poll on an
          // idle subscription, and a wait without limit while the connection is down. An untimed
          // one waits on the consumer's own queue only; close() wakes it (wake()).
          jms = lane.consumer.receive();
        } catch (JMSException | RuntimeException e) {
          window.release();
          if (closed.get()) {
            return;
          }
          if (!attachedAgain(lane)) {
            log.debug("{}: receive failed: {}", AmqpAddresses.address(source), e.toString());
            Thread.sleep(POLL_MILLIS); // the session is down; the connection recovers it
          }
          continue;
        } finally {
          synchronized (receiving) {
            receiving.remove(self);
          }
          // a wake-up that came after the receive returned a message must not reach the delivery's
          // handler; closed is set before any wake-up and looked at below
          Thread.interrupted();
        }
        if (jms == null) {
          window.release();
          if (!closed.get() && !attachedAgain(lane)) {
            Thread.sleep(POLL_MILLIS); // not woken by close: the consumer stopped; never spin
          }
          continue;
        }
        if (closed.get()) {
          window.release();
          return; // not settled: the broker gives it back when the session closes
        }
        dispatch(jms, window);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** A loop's session and consumer: replaced on the loop's thread, under the lane's lock. */
  private static final class Lane {
    volatile Session session;
    volatile MessageConsumer consumer;

    /** Set by the connection's listener: the broker closed this lane's consumer. */
    volatile boolean consumerLost;

    /** Set by the connection's listener: the broker closed this lane's session. */
    volatile boolean sessionLost;
  }

  /**
   * The broker closed a consumer of this connection while the connection stayed up (its link
   * detached: the queue deleted, an operator's "close consumer"). Qpid JMS closes such a consumer
   * for good; if it is one of this subscription's, its loop attaches a new one.
   */
  void consumerClosed(MessageConsumer consumer, Throwable cause) {
    for (Lane lane : lanes) {
      if (lane.consumer == consumer) {
        lost(lane, false, "a consumer", cause);
      }
    }
  }

  /**
   * The broker ended a session of this connection: the lanes on it attach on a new one, and replies
   * go out on a new one if it was theirs.
   */
  void sessionClosed(Session session, Throwable cause) {
    ProducerLink link = replies;
    if (link != null && !closed.get()) {
      link.sessionClosed(session, cause);
    }
    for (Lane lane : lanes) {
      if (lane.session == session) {
        lost(lane, true, "a consumer's session", cause);
      }
    }
  }

  /** Marks {@code lane} for its loop to attach again, on a new session if {@code session}. */
  private void lost(Lane lane, boolean session, String what, Throwable cause) {
    if (closed.get()) {
      return;
    }
    if (session) {
      lane.sessionLost = true;
    }
    lane.consumerLost = true;
    log.warn(
        "{}: the broker closed {} ({}); consuming again",
        AmqpAddresses.address(source),
        what,
        reason(cause));
  }

  /**
   * The transport replaced a connection Qpid JMS gave up for good: every lane attaches on a new
   * session of {@code fresh}, and replies go out on one.
   */
  void reopenOn(Connection fresh) {
    connection = fresh;
    ProducerLink link = replies;
    if (link != null) {
      link.reopenOn(fresh);
    }
    for (Lane lane : lanes) {
      lane.sessionLost = true;
      lane.consumerLost = true;
    }
  }

  /** The broker closed a producer of this connection: if it was the replies', a new session. */
  void producerClosed(MessageProducer producer, Throwable cause) {
    ProducerLink link = replies;
    if (link != null && !closed.get()) {
      link.producerClosed(producer, cause);
    }
  }

  static String reason(Throwable cause) {
    return cause == null || cause.getMessage() == null ? "no reason given" : cause.getMessage();
  }

  /**
   * Attaches a new consumer in place of one the broker closed ({@link #consumerClosed}), on a new
   * session if the broker closed the lane's session too, and returns true; returns false at once if
   * the broker had not closed it. While the connection is down, or the broker refuses the attach
   * (the queue deleted and not created again, permissions), it tries again, backing off to {@link
   * #MAX_ATTACH_BACKOFF_MILLIS}, until it attaches or the subscription closes. Runs on the lane's
   * loop, so nothing is received from the lane meanwhile; its unsettled deliveries the broker has
   * given back already.
   */
  private boolean attachedAgain(Lane lane) throws InterruptedException {
    if (!lane.consumerLost) {
      return false;
    }
    long backoff = POLL_MILLIS;
    while (!closed.get()) {
      // First a pause: when the broker ends a session it closes the session's consumers first,
      // and a consumer attached on the session in between waits out Qpid JMS's request timeout
      // (10 s, seen) for an answer that never comes; the session's close is reported within ms.
      for (long waited = 0; waited < backoff && !closed.get(); waited += POLL_MILLIS) {
        Thread.sleep(POLL_MILLIS);
      }
      backoff = Math.min(backoff * 2, MAX_ATTACH_BACKOFF_MILLIS);
      if (linkUp.getAsBoolean() && !closed.get()) {
        try {
          synchronized (lane) {
            if (closed.get()) {
              return true; // close() closes the lane's session after this
            }
            if (lane.sessionLost) {
              QpidAmqpTransport.closeQuietly(lane.session);
              lane.session = connection.createSession(false, INDIVIDUAL_ACKNOWLEDGE);
              lane.sessionLost = false;
            }
            lane.consumer =
                lane.session.createConsumer(AmqpAddresses.forSend(lane.session, source));
            lane.consumerLost = false;
          }
          log.info("{}: consuming again", AmqpAddresses.address(source));
          return true;
        } catch (jakarta.jms.IllegalStateException e) {
          lane.sessionLost = true; // the session is closed too: a new one next time
        } catch (JMSException | RuntimeException e) {
          ATTACHES.warn(
              log, "{}: cannot consume again yet: {}", AmqpAddresses.address(source), reason(e));
        }
      }
    }
    return true;
  }

  /**
   * Ends the loops' untimed receives: each loop waiting in one is interrupted, which Qpid JMS's
   * receive answers with an exception at once, nothing sent to the broker (the wait is on the
   * consumer's own queue). Only a loop inside a receive is interrupted, never one running a
   * delivery or an asynchronous handler; a loop about to receive sees {@code closed} first. A
   * message the interrupted receive had taken is not settled: the broker gives it back when the
   * session closes.
   */
  private void wake() {
    synchronized (receiving) {
      for (Thread loop : receiving) {
        loop.interrupt();
      }
    }
  }

  /**
   * Takes the broker's link credit back from every consumer before the sessions close: Artemis
   * answers the end of a session whose consumers still hold credit only at its next periodic flush
   * of connections ({@code connection-ttl-check-interval}, 2 s by default; measured 4–1,850 ms a
   * subscription), and one without credit at once. A receive without wait that finds nothing asks
   * the broker to drain the link and waits for its answer; a message it returns instead (one
   * prefetched, not handled) is released, so it goes back without counting as a delivery. Bounded:
   * with a backlog each drain may bring one message more.
   */
  private void drainCredit() {
    for (Lane lane : lanes) {
      MessageConsumer consumer = lane.consumer;
      try {
        for (int i = 0; i <= settings.prefetch() && linkUp.getAsBoolean(); i++) {
          jakarta.jms.Message left = consumer.receiveNoWait();
          if (left == null) {
            break; // drained
          }
          settleNow(left, JmsMessageSupport.RELEASED);
        }
      } catch (JMSException | RuntimeException e) {
        log.debug("{}: credit not drained: {}", AmqpAddresses.address(source), e.toString());
      }
    }
  }

  private void dispatch(jakarta.jms.Message jms, Semaphore window) {
    Settlement settlement = inFlight.track(new Disposition(jms, window));
    try {
      Delivery delivery = AmqpMessages.delivery(jms, source);
      handler.onDelivery(delivery, settlement);
    } catch (RuntimeException | Error e) { // a handler's Error must not end the receive loop
      RELEASES.warn(
          log,
          "delivery from {} failed; releasing it for redelivery",
          AmqpAddresses.address(source),
          e);
      settlement.requeue();
    }
  }

  /**
   * The settlement of one message: one disposition, sent on a handler thread or from the settle
   * thread.
   */
  private final class Disposition implements Settlement {
    private final jakarta.jms.Message jms;
    private final Semaphore window;

    /**
     * Set when this delivery's in-order reply could not be sent: the request is then released
     * instead of accepted, so it comes again and is answered then. Written and read on the thread
     * that carries this delivery's calls out (below).
     */
    private boolean replyLost;

    /** Whether a call of this delivery went to the settle thread: the rest must follow it. */
    private volatile boolean onSettleThread;

    Disposition(jakarta.jms.Message jms, Semaphore window) {
      this.jms = jms;
      this.window = window;
    }

    @Override
    public boolean isWithdrawn() {
      return closed.get();
    }

    @Override
    public void ack() {
      settle(JmsMessageSupport.ACCEPTED);
    }

    @Override
    public void requeue() {
      if (closed.get()) {
        window.release();
        return; // the broker gives it back when the session closes
      }
      RELEASES.warn(
          log,
          "a delivery from {} was not handled; releasing it for redelivery",
          AmqpAddresses.address(source));
      settle(JmsMessageSupport.MODIFIED_FAILED);
    }

    @Override
    public void reject() {
      settle(JmsMessageSupport.REJECTED);
    }

    /**
     * Sends the reply now on a handler thread, else hands it to the settle thread, which sends it
     * before it settles this delivery (the settlement comes after this call, and then goes to the
     * settle thread too). The stage completes once the reply is sent or handed over; if the send
     * fails, the request is released, not accepted.
     */
    @Override
    public CompletableFuture<Void> replyInOrder(Destination.Queue replyTo, Message reply) {
      ProducerLink link = replies;
      if (closed.get() || link == null) {
        return null;
      }
      MessageProducer producer;
      jakarta.jms.Message out;
      jakarta.jms.Destination to;
      try {
        // a new session waits for the broker: only on a handler thread, else the core sends it
        ProducerLink.Parts parts = HandlerThread.isCurrent() ? link.parts() : link.partsIfOpen();
        if (parts == null) {
          return null;
        }
        producer = parts.producer();
        out = parts.messages().toJms(reply);
        to = AmqpAddresses.forSend(parts.session(), replyTo);
      } catch (JMSException | RuntimeException e) {
        return null; // the transport's own send reports it
      }
      try {
        carryOut(
            () -> {
              try {
                producer.send(
                    to,
                    out,
                    DeliveryMode.NON_PERSISTENT,
                    jakarta.jms.Message.DEFAULT_PRIORITY,
                    jakarta.jms.Message.DEFAULT_TIME_TO_LIVE);
              } catch (JMSException | RuntimeException e) {
                replyLost = true;
                log.debug(
                    "{}: reply not sent; the request is released: {}",
                    AmqpAddresses.address(source),
                    e.toString());
              }
            });
      } catch (RejectedExecutionException e) {
        return null; // closing
      }
      return CompletableFuture.completedFuture(null);
    }

    private void settle(int outcome) {
      try {
        carryOut(
            () -> {
              try {
                settleNow(
                    jms,
                    replyLost && outcome == JmsMessageSupport.ACCEPTED
                        ? JmsMessageSupport.MODIFIED_FAILED
                        : outcome);
              } finally {
                window.release();
              }
            });
      } catch (RejectedExecutionException e) {
        window.release(); // closed: the broker gives the message back
      }
    }

    /**
     * Runs {@code call} (a blocking Qpid JMS call) now if this is a handler thread and nothing of
     * this delivery waits on the settle thread, else hands it to the settle thread.
     */
    private void carryOut(Runnable call) {
      if (!onSettleThread && HandlerThread.isCurrent()) {
        if (settler.isShutdown()) {
          throw new RejectedExecutionException("closed");
        }
        call.run();
        return;
      }
      onSettleThread = true;
      settler.execute(call);
    }
  }

  private static void settleNow(jakarta.jms.Message jms, int outcome) {
    try {
      if (outcome != JmsMessageSupport.ACCEPTED) {
        jms.setIntProperty(JmsMessageSupport.JMS_AMQP_ACK_TYPE, outcome);
      }
      jms.acknowledge();
    } catch (JMSException | RuntimeException e) {
      // The connection dropped: the broker redelivers the message, which is at-least-once.
      log.debug("could not settle a delivery; the broker will redeliver it", e);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + closeTimeout.toNanos();
    wake();
    // While the connection is up: the loops stop (woken from their receive), the deliveries being
    // handled finish and are settled, and the settle thread sends what it holds; the rest go back
    // when the sessions close. While it is down nothing of that can reach the broker, which has
    // given every unsettled delivery back already, so nothing is waited for: a loop still in a
    // receive then (a connection loss clears the consumer's queue, the wake-up with it) ends when
    // its session is closed below.
    try {
      for (Thread t : loops) {
        while (t.isAlive() && linkUp.getAsBoolean() && System.nanoTime() < deadline) {
          t.join(20);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!inFlight.awaitIdle(Durations.until(deadline), linkUp)) {
      log.debug(
          "{}: {} deliveries still being handled at close",
          AmqpAddresses.address(source),
          inFlight.count());
    }
    try {
      // after the settlements queued; a drain the connection's loss holds is not waited for
      settler.execute(this::drainCredit);
    } catch (RejectedExecutionException e) {
      // already shut down
    }
    settler.shutdown();
    try {
      while (linkUp.getAsBoolean()
          && System.nanoTime() < deadline
          && !settler.awaitTermination(20, TimeUnit.MILLISECONDS)) {
        // waiting for the settlements and replies queued
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Lane lane : lanes) {
      synchronized (lane) {
        QpidAmqpTransport.closeQuietly(lane.session); // a lane attaching again sees closed first
      }
    }
    if (replies != null) {
      replies.close();
    }
    onClose.accept(this);
  }
}
