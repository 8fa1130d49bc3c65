package dev.parley.transport.stomp;

import dev.parley.error.BadInputException;
import dev.parley.message.Headers;
import dev.parley.transport.spi.DeadLetters;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** A MESSAGE frame's headers and body as a Parley {@link Message}. */
final class StompMessages {

  /**
   * STOMP's own headers, what brokers add to a MESSAGE, and what a SEND's headers mean to a broker
   * beyond the message: not the message's headers, neither read from a MESSAGE nor written on a
   * SEND. RabbitMQ's plugin keeps in a message every SEND header that is not one of its properties
   * — a transactional sender's {@code transaction}, and {@code durable}, {@code auto-delete} and
   * {@code exclusive}, which it reads on a SEND to {@code /queue/} as the queue's declaration — so
   * such a message, dead-lettered or sent again with them, would be refused ("Bad transaction",
   * answered without the SEND's receipt) or declare its dead-letter queue exclusive and transient.
   */
  private static final Set<String> FRAME_HEADERS =
      Set.of(
          "transaction",
          "durable",
          "auto-delete",
          "exclusive",
          "user-id",
          "expiration",
          "destination",
          "destination-type",
          "subscription",
          "subscription-type",
          "message-id",
          "ack",
          "content-length",
          "receipt",
          "redelivered",
          "persistent",
          "priority",
          "expires",
          "timestamp",
          "ingress-timestamp",
          "correlation-id",
          "reply-to",
          "type",
          "JMSXGroupID",
          "JMSXUserID",
          "AMQ_SCHEDULED_DELAY",
          "AMQ_SCHEDULED_TIME");

  private StompMessages() {}

  static boolean isMessageHeader(String name) {
    return !FRAME_HEADERS.contains(name)
        && !name.startsWith("_")
        && !name.startsWith("x-")
        && !name.startsWith("AMQ");
  }

  /**
   * Reads a MESSAGE as a delivery. Foreign senders may leave Parley's headers out: STOMP's {@code
   * correlation-id} stands in for {@code parley-correlation-id} then, and the {@code dialect}'s own
   * names for the headers it carries under them ({@link Dialect#readNative}). Without a {@code
   * parley-id} the message gets a new id (brokers' STOMP message ids are not stable across
   * deliveries). Never throws: a frame whose headers could not all be kept, or whose headers are
   * past Parley's limits, is an unreadable delivery, dead-lettered once by the pipeline.
   */
  static Delivery delivery(StompFrame frame, Destination source, Dialect dialect) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : frame.headers().entrySet()) {
      if (isMessageHeader(h.getKey())) {
        headers.put(h.getKey(), h.getValue());
      }
    }
    dialect.readNative(frame, headers);
    String correlation = frame.header("correlation-id");
    if (correlation != null) {
      headers.putIfAbsent(Headers.CORRELATION_ID, correlation);
    }
    BadInputException problem =
        frame.bodyNotRead() > 0
            ? new BadInputException(
                DeadLetters.TOO_LARGE,
                "a body of "
                    + frame.bodyNotRead()
                    + " bytes, more than a frame may have here (StompTransport.Builder"
                    + ".maxFrameBytes): not read, not kept")
            : frame.unreadable() == null
                ? null
                : new BadInputException(
                    "parley.header.invalid", "STOMP headers left out: " + frame.unreadable());
    return Delivery.fromWire(headers, frame.body(), source, deliveryCount(frame), problem);
  }

  /** 2 for a message the broker says it delivered before, else 1 (STOMP tells no more). */
  static int deliveryCount(StompFrame frame) {
    return "true".equals(frame.header("redelivered")) ? 2 : 1;
  }
}
