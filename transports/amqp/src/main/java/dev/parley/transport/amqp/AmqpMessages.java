package dev.parley.transport.amqp;

import dev.parley.error.BadInputException;
import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.AmqpIds;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import jakarta.jms.BytesMessage;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import jakarta.jms.Topic;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
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
    jms.writeBytes(Payloads.shared(message));
    message
        .headers()
        .forEach(
            (name, value) -> {
              if (isMessageHeader(name)) {
                setProperty(jms, name, value);
              }
            });
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

  /**
   * Whether an application property is one of the message's headers: not the JMS provider's own
   * ({@code JMSX…}, {@code JMS_…}) nor one Artemis acts on ({@code _AMQ_…}, {@code __AMQ…}: a
   * foreign sender's {@code _AMQ_DUPL_ID} made Artemis drop Parley's delayed redelivery of the
   * message to the same address as a duplicate — the message lost). Neither read nor written.
   */
  static boolean isMessageHeader(String name) {
    return !name.startsWith("JMSX")
        && !name.startsWith("JMS_")
        && !name.startsWith("_AMQ")
        && !name.startsWith("__AMQ");
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
   * Reads a delivered AMQP message as a {@link Delivery}. Foreign clients may omit Parley's
   * application properties: the native message id, correlation id, reply-to, expiry time (as the
   * deadline) and content type are used then. Never throws: a message that cannot be read (headers
   * past the limits, a property the client cannot decode) becomes an unreadable delivery, which the
   * pipeline dead-letters once.
   */
  static Delivery delivery(jakarta.jms.Message jms, Destination source) {
    Map<String, String> headers = new LinkedHashMap<>();
    byte[] payload = new byte[0];
    int deliveryCount = 1;
    try {
      deliveryCount =
          jms.propertyExists(JmsMessageSupport.JMSX_DELIVERY_COUNT)
              ? jms.getIntProperty(JmsMessageSupport.JMSX_DELIVERY_COUNT)
              : 1;
      Enumeration<?> names = jms.getPropertyNames();
      while (names.hasMoreElements()) {
        String name = (String) names.nextElement();
        if (!isMessageHeader(name)) {
          continue;
        }
        Object value = jms.getObjectProperty(name);
        if (value != null) {
          headers.put(name, value.toString());
        }
      }
      if (!headers.containsKey(Headers.ID) && jms.getJMSMessageID() != null) {
        headers.put(Headers.ID, AmqpIds.text(jms.getJMSMessageID()));
      }
      if (!headers.containsKey(Headers.CORRELATION_ID) && jms.getJMSCorrelationID() != null) {
        headers.put(Headers.CORRELATION_ID, AmqpIds.text(jms.getJMSCorrelationID()));
      }
      if (!headers.containsKey(Headers.REPLY_TO) && jms.getJMSReplyTo() != null) {
        jakarta.jms.Destination replyTo = jms.getJMSReplyTo();
        String address =
            replyTo instanceof Queue q ? q.getQueueName() : ((Topic) replyTo).getTopicName();
        headers.put(Headers.REPLY_TO, address);
      }
      if (!headers.containsKey(Headers.DEADLINE) && jms.getJMSExpiration() > 0) {
        // A foreign requester's time-to-live (JMSExpiration: properties.absolute-expiry-time, or
        // header.ttl from its arrival) is its deadline, as Parley's own requests carry theirs.
        headers.put(Headers.DEADLINE, Long.toString(jms.getJMSExpiration()));
      }
      if (!headers.containsKey(Headers.CONTENT_TYPE)) {
        String nativeType = nativeContentType(jms);
        if (nativeType != null && !nativeType.equals("application/octet-stream")) {
          headers.put(Headers.CONTENT_TYPE, nativeType);
        }
      }
      if (jms instanceof BytesMessage bytes) {
        payload = new byte[(int) bytes.getBodyLength()];
        bytes.readBytes(payload);
      } else if (jms instanceof TextMessage text) {
        String body = text.getText();
        payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
      } else {
        // Never deserialize object bodies (Java serialization); such a message goes to the DLQ.
        headers.put(Headers.CONTENT_TYPE, UNSUPPORTED_BODY);
      }
    } catch (JMSException | RuntimeException e) {
      return Delivery.fromWire(
          headers,
          payload,
          source,
          deliveryCount,
          new BadInputException(
              "parley.message.unreadable", "the AMQP message cannot be read: " + e.getMessage()));
    }
    return Delivery.fromWire(headers, payload, source, deliveryCount);
  }

  private static String nativeContentType(jakarta.jms.Message jms) {
    if (jms instanceof JmsMessage j && j.getFacade() instanceof AmqpJmsMessageFacade f) {
      Symbol type = f.getContentType();
      return type == null ? null : type.toString();
    }
    return null;
  }
}
