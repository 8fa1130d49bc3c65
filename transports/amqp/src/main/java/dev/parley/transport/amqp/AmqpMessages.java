package dev.parley.transport.amqp;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import jakarta.jms.BytesMessage;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import org.apache.qpid.jms.message.JmsMessage;
import org.apache.qpid.jms.message.JmsMessageSupport;
import org.apache.qpid.jms.provider.amqp.message.AmqpJmsMessageFacade;
import org.apache.qpid.proton.amqp.Symbol;

/**
 * Converts between Parley messages and AMQP 1.0 messages (through Qpid JMS). Every Parley header is
 * an application property of the same name; these are mirrored into native AMQP fields so brokers
 * and foreign clients can use them: {@code content-type} → properties.content-type, correlation id
 * → properties.correlation-id, reply-to → properties.reply-to, partition key → properties.group-id
 * (Artemis message groups), deadline → header.ttl / properties.absolute-expiry-time. The payload is
 * one AMQP data section.
 */
final class AmqpMessages {

  /** Content type given to bodies Parley does not read (AMQP sequences, maps, Java objects). */
  static final String UNSUPPORTED_BODY = "application/x-parley-unsupported-amqp-body";

  private final Session session;

  AmqpMessages(Session session) {
    this.session = session;
  }

  jakarta.jms.Message toJms(Message message) throws JMSException {
    BytesMessage jms = session.createBytesMessage();
    jms.writeBytes(message.payload());
    message.headers().forEach((name, value) -> setProperty(jms, name, value));
    String contentType = message.headers().get(Headers.CONTENT_TYPE);
    if (contentType != null
        && jms instanceof JmsMessage j
        && j.getFacade() instanceof AmqpJmsMessageFacade f) {
      f.setContentType(Symbol.valueOf(contentType));
    }
    String correlation = message.headers().get(Headers.CORRELATION_ID);
    if (correlation != null) {
      jms.setJMSCorrelationID(correlation);
    }
    String replyTo = message.headers().get(Headers.REPLY_TO);
    if (replyTo != null) {
      jms.setJMSReplyTo(session.createQueue(replyTo));
    }
    String key = message.headers().get(Headers.PARTITION_KEY);
    if (key != null) {
      jms.setStringProperty(JmsMessageSupport.JMSX_GROUPID, key);
    }
    return jms;
  }

  private static void setProperty(jakarta.jms.Message jms, String name, String value) {
    try {
      jms.setStringProperty(name, value);
    } catch (JMSException e) {
      throw new IllegalArgumentException("header " + name + " cannot be carried over AMQP", e);
    }
  }

  /** JMS time-to-live for the message's deadline, 0 (never expires) without one. */
  long timeToLive(Message message) {
    String deadline = message.headers().get(Headers.DEADLINE);
    if (deadline == null) {
      return 0;
    }
    try {
      return Math.max(1, Long.parseLong(deadline) - System.currentTimeMillis());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Reads a delivered AMQP message. Foreign clients may omit Parley's application properties: the
   * native message id, correlation id, reply-to and content type are used then.
   */
  static Message fromJms(jakarta.jms.Message jms) throws JMSException {
    Message.Builder b = Message.builder();
    Enumeration<?> names = jms.getPropertyNames();
    while (names.hasMoreElements()) {
      String name = (String) names.nextElement();
      if (name.startsWith("JMSX") || name.startsWith("JMS_")) {
        continue;
      }
      Object value = jms.getObjectProperty(name);
      if (value != null) {
        b.header(name, value.toString());
      }
    }
    Message partial = b.build();
    // Message.build() makes up an id when none is given, so ask the message itself.
    if (jms.getObjectProperty(Headers.ID) == null && jms.getJMSMessageID() != null) {
      b.id(stripIdPrefix(jms.getJMSMessageID()));
    }
    if (partial.header(Headers.CORRELATION_ID).isEmpty() && jms.getJMSCorrelationID() != null) {
      b.header(Headers.CORRELATION_ID, stripIdPrefix(jms.getJMSCorrelationID()));
    }
    if (partial.header(Headers.REPLY_TO).isEmpty() && jms.getJMSReplyTo() != null) {
      jakarta.jms.Destination replyTo = jms.getJMSReplyTo();
      String address =
          replyTo instanceof Queue q ? q.getQueueName() : ((Topic) replyTo).getTopicName();
      b.header(Headers.REPLY_TO, address);
    }
    if (partial.header(Headers.CONTENT_TYPE).isEmpty()) {
      String nativeType = nativeContentType(jms);
      if (nativeType != null && !nativeType.equals("application/octet-stream")) {
        b.header(Headers.CONTENT_TYPE, nativeType);
      }
    }
    if (jms instanceof BytesMessage bytes) {
      byte[] payload = new byte[(int) bytes.getBodyLength()];
      bytes.readBytes(payload);
      b.payload(payload);
    } else if (jms instanceof TextMessage text) {
      String body = text.getText();
      b.payload(body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8));
    } else {
      // Never deserialize object bodies (Java serialization); such a message goes to the DLQ.
      b.header(Headers.CONTENT_TYPE, UNSUPPORTED_BODY);
    }
    return b.build();
  }

  private static String nativeContentType(jakarta.jms.Message jms) {
    if (jms instanceof JmsMessage j && j.getFacade() instanceof AmqpJmsMessageFacade f) {
      Symbol type = f.getContentType();
      return type == null ? null : type.toString();
    }
    return null;
  }

  private static String stripIdPrefix(String id) {
    return id.startsWith("ID:") ? id.substring(3) : id;
  }
}
