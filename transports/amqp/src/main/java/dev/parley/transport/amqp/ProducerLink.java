package dev.parley.transport.amqp;

import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session with one anonymous producer and the factory of its messages — where a transport's sends
 * or a subscription's replies go out — opened again when the broker has closed that session or
 * producer while the connection stayed up (an operator's "close session" in Artemis's console, the
 * management operation {@code closeSessionWithID}). Qpid JMS closes such a session for good;
 * without a new one every later send would fail with "The Session was closed due to an
 * unrecoverable error". The connection's listener reports the close ({@link #sessionClosed}, {@link
 * #producerClosed}); the next {@link #parts()} opens a new session.
 */
final class ProducerLink {

  private static final Logger log = LoggerFactory.getLogger(ProducerLink.class);

  /** One session, its anonymous producer and its message factory. */
  record Parts(Session session, MessageProducer producer, AmqpMessages messages) {}

  private volatile Connection connection;
  private final int deliveryMode;
  private final String name;
  private volatile Parts parts;

  /** Set by the connection's listener: the broker closed the session or its producer. */
  private volatile boolean lost;

  private boolean closed;

  /**
   * @param name what goes out on it, for the log
   */
  ProducerLink(Connection connection, int deliveryMode, String name) throws JMSException {
    this.connection = connection;
    this.deliveryMode = deliveryMode;
    this.name = name;
    this.parts = open();
  }

  private Parts open() throws JMSException {
    Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    try {
      MessageProducer producer = session.createProducer(null);
      producer.setDeliveryMode(deliveryMode);
      return new Parts(session, producer, new AmqpMessages(session));
    } catch (JMSException | RuntimeException e) {
      QpidAmqpTransport.closeQuietly(session);
      throw e;
    }
  }

  /** The session and producer to send on while the broker keeps them; null once it closed them. */
  Parts partsIfOpen() {
    return lost ? null : parts;
  }

  /**
   * The session and producer to send on: the same ones without a lock while the broker keeps them,
   * new ones once it has closed them — opening them waits for the broker, so only on a thread that
   * may block (failing, and trying again on the next call, while the connection is down).
   */
  Parts parts() throws JMSException {
    if (!lost) {
      return parts;
    }
    synchronized (this) {
      if (closed) {
        throw new jakarta.jms.IllegalStateException(name + ": closed");
      }
      if (lost) {
        close(parts);
        parts = open();
        lost = false;
        log.info("{}: on a new session", name);
      }
      return parts;
    }
  }

  /**
   * The broker closed {@code session}: if it is this link's, the next {@link #parts()} replaces it.
   */
  void sessionClosed(Session session, Throwable cause) {
    if (parts.session() == session) {
      lost("session", cause);
    }
  }

  /**
   * The broker closed {@code producer}: if it is this link's, the next parts() opens a new session.
   */
  void producerClosed(MessageProducer producer, Throwable cause) {
    if (parts.producer() == producer) {
      lost("producer", cause);
    }
  }

  private void lost(String what, Throwable cause) {
    lost = true;
    log.warn(
        "{}: the broker closed the {} ({}); a new session at the next send",
        name,
        what,
        AmqpSubscription.reason(cause));
  }

  /** The connection was replaced: the next {@link #parts()} opens a session on {@code fresh}. */
  synchronized void reopenOn(Connection fresh) {
    connection = fresh;
    lost = true;
  }

  synchronized void close() {
    closed = true;
    close(parts);
  }

  /**
   * The producer first: Artemis answers the end of a session that still has an open anonymous
   * producer only at its next flush of connections, and at once without one (measured 2026-12-04:
   * 170 ms to 1.7 s a subscription against 2-11 ms).
   */
  private static void close(Parts parts) {
    QpidAmqpTransport.closeQuietly(parts.producer());
    QpidAmqpTransport.closeQuietly(parts.session());
  }
}
