package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.ReservedHeaders;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts between Parley messages and AMQP 0-9-1 messages. A Parley header that AMQP has a basic
 * property for travels as that property: {@code content-type} → content_type, id → message_id,
 * correlation id → correlation_id, reply address → reply_to, type → type, source → app_id (since
 * December 2026; RabbitMQ's STOMP plugin spends CPU on every line that goes to the table, and the
 * STOMP transport sends the same properties, so a message looks alike from either); every other
 * header is an entry of the message's {@code headers} table, as a string. The deadline is not made
 * a per-message TTL ({@code expiration}): the consumer drops an expired message unhandled, while
 * with a TTL the broker decoded every request's properties and dead-lettered each expired request
 * into the dead-letter queue ({@code x-death} reason {@code expired}), where it was noise. Messages
 * are persistent (delivery mode 2). The payload is the message body, byte for byte.
 */
final class RabbitMessages {

  /** Header RabbitMQ quorum queues add on redelivery: earlier failed deliveries. */
  static final String DELIVERY_COUNT = "x-delivery-count";

  /** Header RabbitMQ adds when it dead-letters a message itself. */
  static final String X_DEATH = "x-death";

  /** Error code of a message the broker dead-lettered after its delivery limit. */
  static final String DELIVERY_LIMIT_CODE = "parley.rabbitmq.delivery_limit";

  private static final String OCTET_STREAM = "application/octet-stream";

  private RabbitMessages() {}

  /**
   * Persistent (delivery mode 2) unless {@code persistent} is false: a reply. A header that has a
   * property of its own (the id, correlation id, reply address, type, source and content type)
   * travels only there, not also in the {@code headers} table (each entry costs the broker work
   * where it decodes the table), and {@link #delivery} reads those headers back from their
   * properties. A message with nothing left for the table (an event, a success reply to a caller
   * without a reply token) has none: the broker then has no table to decode at all.
   */
  static AMQP.BasicProperties toProperties(Message message, boolean persistent) {
    Map<String, String> all = message.headers();
    Map<String, Object> table = new HashMap<>(all.size() * 2);
    AMQP.BasicProperties.Builder b =
        new AMQP.BasicProperties.Builder().deliveryMode(persistent ? 2 : 1).messageId(message.id());
    for (Map.Entry<String, String> e : all.entrySet()) {
      String name = e.getKey();
      String value = e.getValue();
      switch (name) {
        case Headers.ID -> {} // message_id
        case Headers.CORRELATION_ID -> b.correlationId(value);
        case Headers.REPLY_TO -> b.replyTo(value);
        case Headers.TYPE -> b.type(value);
        case Headers.SOURCE -> b.appId(value);
        case Headers.CONTENT_TYPE -> {
          b.contentType(value);
          if (OCTET_STREAM.equals(value)) {
            table.put(name, value); // the property alone is read as "not set" (a client default)
          }
        }
        default -> {
          ReservedHeaders.checkRabbitMq(name);
          table.put(name, value);
        }
      }
    }
    return table.isEmpty() ? b.build() : b.headers(table).build();
  }

  /**
   * Reads a delivered message. Foreign clients may omit Parley's headers: the message_id,
   * correlation_id, reply_to, type, app_id and content_type properties are used then. A message
   * RabbitMQ dead-lettered itself (delivery limit) gets Parley's error headers from its {@code
   * x-death}. Never throws: a message past the header limits becomes an unreadable delivery, which
   * the pipeline dead-letters once.
   */
  static Delivery delivery(
      AMQP.BasicProperties props, byte[] body, Destination source, int deliveryCount) {
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, Object> headers = props.getHeaders();
    dev.parley.error.BadInputException unreadable = null;
    Object guarded =
        headers == null
            ? null
            : headers.getOrDefault(
                HeaderTableGuard.UNREADABLE, headers.get(HeaderTableGuard.BODY_NOT_READ));
    if (guarded != null) {
      // The connection's guard replaced what amqp-client would have refused (HeaderTableGuard).
      unreadable =
          new dev.parley.error.BadInputException("parley.message.unreadable", text(guarded));
      headers = null;
    }
    if (headers != null) {
      headers.forEach(
          (name, value) -> {
            if (!name.startsWith("x-") && value != null) {
              String text = text(value);
              if (text != null) {
                out.put(name, text);
              }
            }
          });
    }
    putIfAbsent(out, Headers.ID, props.getMessageId());
    putIfAbsent(out, Headers.CORRELATION_ID, props.getCorrelationId());
    putIfAbsent(out, Headers.REPLY_TO, props.getReplyTo());
    putIfAbsent(out, Headers.TYPE, props.getType());
    putIfAbsent(out, Headers.SOURCE, props.getAppId());
    if (props.getContentType() != null && !props.getContentType().equals(OCTET_STREAM)) {
      putIfAbsent(out, Headers.CONTENT_TYPE, props.getContentType());
    }
    if (!out.containsKey(Headers.ERROR_CODE) && headers != null) {
      Object deaths = headers.get(X_DEATH);
      if (deaths instanceof List<?> list && !list.isEmpty() && list.get(0) instanceof Map<?, ?> d) {
        String reason = text(d.get("reason"));
        String queue = text(d.get("queue"));
        out.put(
            Headers.ERROR_CODE,
            "delivery_limit".equals(reason) ? DELIVERY_LIMIT_CODE : "parley.rabbitmq." + reason);
        out.put(Headers.ERROR_MESSAGE, "dead-lettered by RabbitMQ (" + reason + ") from " + queue);
        if (queue != null) {
          out.put(Headers.ORIGINAL_QUEUE, queue);
        }
      }
    }
    return Delivery.fromWire(
        out, body == null ? new byte[0] : body, source, deliveryCount, unreadable);
  }

  private static void putIfAbsent(Map<String, String> headers, String name, String value) {
    if (value != null && !headers.containsKey(name)) {
      headers.put(name, value);
    }
  }

  /** Deliveries of this message so far, including this one. */
  static int deliveryCount(AMQP.BasicProperties props, boolean redelivered) {
    Map<String, Object> headers = props.getHeaders();
    Object count = headers == null ? null : headers.get(DELIVERY_COUNT);
    if (count instanceof Number n) {
      return (int) Math.min(Integer.MAX_VALUE - 1, n.longValue()) + 1;
    }
    return redelivered ? 2 : 1;
  }

  private static String text(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof LongString s) {
      return new String(s.getBytes(), StandardCharsets.UTF_8);
    }
    if (value instanceof byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
    if (value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value.toString();
    }
    return null;
  }
}
