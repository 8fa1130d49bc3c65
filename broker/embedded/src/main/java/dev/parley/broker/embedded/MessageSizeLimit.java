package dev.parley.broker.embedded;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.ActiveMQExceptionType;
import org.apache.activemq.artemis.api.core.Message;
import org.apache.activemq.artemis.core.server.ServerSession;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerMessagePlugin;
import org.apache.activemq.artemis.core.transaction.Transaction;
import org.apache.activemq.artemis.protocol.amqp.broker.AMQPMessage;
import org.apache.activemq.artemis.protocol.amqp.broker.AmqpInterceptor;
import org.apache.activemq.artemis.spi.core.protocol.RemotingConnection;

/**
 * Refuses a message larger than the broker takes, as RabbitMQ's {@code max_message_size} does: the
 * sender's send fails, and no consumer ever gets it. Artemis itself takes messages of any size
 * (larger ones go to disk), but its clients do not: Qpid JMS assembles each message it receives
 * whole in memory, up to its prefetch of them, whatever their size, and a STOMP client reads a
 * whole frame. One sender's oversized message would otherwise reach every consumer of its queue and
 * fill their memory, again after each restart.
 *
 * <p>An AMQP 1.0 message is refused by an incoming interceptor, which Artemis answers with a {@code
 * rejected} outcome ({@code failed}, "Interceptor rejected message") and no log line of its own;
 * any other (STOMP's) by a broker plugin before the send, which Artemis answers with an {@code
 * ERROR}, closing the STOMP connection as STOMP has a server do. (Thrown from the plugin on AMQP
 * 1.0, the refusal would be logged by Artemis with its stack trace, once per message.) Either way
 * this class logs the refusal, at most 10 lines every 10 s.
 *
 * <p>A dead letter ({@code <queue>.dlq}, {@link EmbeddedBroker#DEAD_LETTER_ADDRESS}) may be larger
 * by {@link #DEAD_LETTER_ALLOWANCE}: it is a message the broker took, plus the error headers Parley
 * adds to it. Thread-safe.
 */
final class MessageSizeLimit implements ActiveMQServerMessagePlugin, AmqpInterceptor {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(MessageSizeLimit.class);

  /** A sender can cause these lines: at most 10 every 10 s, then a count of those left out. */
  private static final dev.parley.transport.spi.LogLimiter REFUSALS =
      dev.parley.transport.spi.LogLimiter.of(10, 10);

  /**
   * How much larger than the limit a dead letter may be: Parley's headers are at most 64 KiB in all
   * (HeaderLimits), and a dead letter carries the original's with its error headers added.
   */
  static final int DEAD_LETTER_ALLOWANCE = 128 * 1024;

  private final long maxBytes;

  MessageSizeLimit(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** AMQP 1.0: a message over the limit is rejected, quietly on Artemis's side. */
  @Override
  public boolean intercept(AMQPMessage message, RemotingConnection connection) {
    if (refusal(message) == null) {
      return true;
    }
    // Artemis runs no send, so no onSendException: the file its body went to is deleted here
    // (RefusedMessageFiles)
    RefusedMessageFiles.discard(message);
    return false;
  }

  /** Every other protocol's message (an AMQP 1.0 one over the limit never gets here). */
  @Override
  public void beforeSend(
      ServerSession session,
      Transaction tx,
      Message message,
      boolean direct,
      boolean noAutoCreateQueue)
      throws ActiveMQException {
    String refusal = refusal(message);
    if (refusal != null) {
      // thrown from here, before Artemis's send, there is no onSendException either
      RefusedMessageFiles.discard(message);
      throw new ActiveMQException(ActiveMQExceptionType.ILLEGAL_STATE, refusal);
    }
  }

  /** Why {@code message} is refused (sizes and the limit, nothing of the message), or null. */
  private String refusal(Message message) {
    long size = message.getWholeMessageSize();
    String address = message.getAddress();
    long allowed = isDeadLetterAddress(address) ? maxBytes + DEAD_LETTER_ALLOWANCE : maxBytes;
    if (size <= allowed) {
      return null;
    }
    // Said here: the sender hears only that the broker refused (AMQP 1.0: "Interceptor rejected
    // message"; STOMP: "Error sending message").
    REFUSALS.warn(
        log,
        "refused a message of {} bytes sent to {}: larger than the {} bytes this broker takes"
            + " (EmbeddedBroker.Builder.maxMessageBytes)",
        size,
        address,
        allowed);
    return "parley.broker.too_large: a message of "
        + size
        + " bytes is larger than the "
        + allowed
        + " bytes this broker takes";
  }

  static boolean isDeadLetterAddress(String address) {
    return address != null
        && (address.endsWith(".dlq") || address.equals(EmbeddedBroker.DEAD_LETTER_ADDRESS));
  }
}
