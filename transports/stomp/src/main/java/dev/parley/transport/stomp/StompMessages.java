package dev.parley.transport.stomp;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import java.util.Map;
import java.util.Set;

/** A MESSAGE frame's headers and body as a Parley {@link Message}. */
final class StompMessages {

  /** STOMP's own headers and what brokers add to a MESSAGE: not the message's headers. */
  private static final Set<String> FRAME_HEADERS =
      Set.of(
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
   * Reads a MESSAGE. Foreign senders may leave Parley's headers out: STOMP's {@code correlation-id}
   * stands in for {@code parley-correlation-id} then. Without a {@code parley-id} the message gets
   * a new id (brokers' STOMP message ids are not stable across deliveries).
   */
  static Message fromFrame(StompFrame frame) {
    Message.Builder b = Message.builder();
    for (Map.Entry<String, String> h : frame.headers().entrySet()) {
      if (isMessageHeader(h.getKey())) {
        b.header(h.getKey(), h.getValue());
      }
    }
    String correlation = frame.header("correlation-id");
    if (correlation != null && !frame.headers().containsKey(Headers.CORRELATION_ID)) {
      b.header(Headers.CORRELATION_ID, correlation);
    }
    b.payload(frame.body());
    return b.build();
  }

  /** 2 for a message the broker says it delivered before, else 1 (STOMP tells no more). */
  static int deliveryCount(StompFrame frame) {
    return "true".equals(frame.header("redelivered")) ? 2 : 1;
  }
}
