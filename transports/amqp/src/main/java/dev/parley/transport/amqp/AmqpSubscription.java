package dev.parley.transport.amqp;

import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.TransportSubscription;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.qpid.jms.message.JmsMessageSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code concurrency} consumers on one source, each on its own session (and so its own delivery
 * thread), acknowledging each message individually once the handler's stage completes, or releasing
 * it as failed (delivery count + 1) when the stage fails.
 */
final class AmqpSubscription implements TransportSubscription {

  private static final Logger log = LoggerFactory.getLogger(AmqpSubscription.class);

  /** A release repeats with every redelivery: bounded, so no message can flood the log. */
  private static final LogLimiter RELEASES = LogLimiter.of(10, 10);

  /** Qpid JMS's acknowledge mode that settles one message at a time (not public in its API). */
  private static final int INDIVIDUAL_ACKNOWLEDGE = 101;

  private final Connection connection;
  private final Destination source;
  private final ConsumerSettings settings;
  private final DeliveryHandler handler;
  private final Duration closeTimeout;
  private final Consumer<AmqpSubscription> onClose;
  private final List<Session> sessions = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  AmqpSubscription(
      Connection connection,
      Destination source,
      ConsumerSettings settings,
      DeliveryHandler handler,
      Duration closeTimeout,
      Consumer<AmqpSubscription> onClose) {
    this.connection = connection;
    this.source = source;
    this.settings = settings;
    this.handler = handler;
    this.closeTimeout = closeTimeout;
    this.onClose = onClose;
  }

  void open() {
    try {
      for (int i = 0; i < settings.concurrency(); i++) {
        Session session = connection.createSession(false, INDIVIDUAL_ACKNOWLEDGE);
        synchronized (sessions) {
          sessions.add(session);
        }
        jakarta.jms.Destination destination = AmqpAddresses.forSend(session, source);
        MessageConsumer consumer = session.createConsumer(destination);
        consumer.setMessageListener(this::onMessage);
      }
    } catch (JMSException e) {
      throw new dev.parley.error.TransportException(
          "parley.transport.subscribe_failed",
          "cannot consume from " + AmqpAddresses.address(source),
          e);
    }
  }

  private void onMessage(jakarta.jms.Message jms) {
    if (closed.get()) {
      settle(jms, JmsMessageSupport.RELEASED);
      return;
    }
    boolean ok = false;
    try {
      Delivery delivery = AmqpMessages.delivery(jms, source);
      handler.onDelivery(delivery).toCompletableFuture().get();
      ok = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      RELEASES.warn(
          log,
          "delivery from {} not recorded; releasing it for redelivery: {}",
          AmqpAddresses.address(source),
          String.valueOf(e.getCause()));
    } catch (RuntimeException e) {
      RELEASES.warn(
          log,
          "delivery from {} failed; releasing it for redelivery",
          AmqpAddresses.address(source),
          e);
    }
    settle(jms, ok ? JmsMessageSupport.ACCEPTED : JmsMessageSupport.MODIFIED_FAILED);
  }

  private static void settle(jakarta.jms.Message jms, int outcome) {
    try {
      if (outcome != JmsMessageSupport.ACCEPTED) {
        jms.setIntProperty(JmsMessageSupport.JMS_AMQP_ACK_TYPE, outcome);
      }
      jms.acknowledge();
    } catch (JMSException e) {
      // The connection dropped: the broker redelivers the message, which is at-least-once.
      log.debug("could not settle a delivery; the broker will redeliver it", e);
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<Session> toClose;
    synchronized (sessions) {
      toClose = new ArrayList<>(sessions);
      sessions.clear();
    }
    // Session.close waits for a listener in progress; bound the wait.
    List<Thread> closers = new ArrayList<>();
    for (Session s : toClose) {
      Thread t = new Thread(() -> QpidAmqpTransport.closeQuietly(s), "parley-amqp-close");
      t.setDaemon(true);
      t.start();
      closers.add(t);
    }
    long deadline = System.nanoTime() + closeTimeout.toNanos();
    for (Thread t : closers) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    onClose.accept(this);
  }
}
