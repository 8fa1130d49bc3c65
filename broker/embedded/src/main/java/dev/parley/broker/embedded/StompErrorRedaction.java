package dev.parley.broker.embedded;

import java.nio.charset.StandardCharsets;
import org.apache.activemq.artemis.core.protocol.stomp.StompFrame;
import org.apache.activemq.artemis.core.protocol.stomp.StompFrameInterceptor;
import org.apache.activemq.artemis.spi.core.protocol.RemotingConnection;

/**
 * Keeps a refused message's headers out of Artemis's STOMP {@code ERROR} frames and out of its log.
 * When Artemis refuses a {@code SEND} (no permission for the address, for one) the {@code message}
 * header of its {@code ERROR} quotes the message whole — {@code AMQ339011 Error sending message
 * CoreMessage[…, properties=TypedProperties[…]]}, every header with its value — and Artemis logs
 * that header at WARN ({@code AMQ332069}) as it sends the frame. A request's {@code
 * parley-authorization} (a bearer token) would so end up in the broker's log, and any header back
 * at the client. This outgoing interceptor, which Artemis runs before it writes and logs a frame,
 * cuts the quoted message out of an {@code ERROR}'s {@code message} header (what Artemis logs) and
 * body; what Artemis says about the refusal itself (its code and text) stays. A STOMP 1.1 or 1.2
 * client still reads its own message quoted back in the header (Artemis writes those frames from a
 * list of headers an interceptor cannot reach): it is the sender's own, and Parley's STOMP
 * transport keeps it out of its exceptions and log.
 *
 * <p>Installed by {@link EmbeddedBroker} on every broker it starts. Public only because Artemis
 * makes its interceptors from their class names.
 */
public final class StompErrorRedaction implements StompFrameInterceptor {

  /** What stands in for the quoted message. */
  static final String WITHHELD = "(the message withheld)";

  /** Where Artemis's description of a message starts in an error text. */
  private static final String[] MARKERS = {
    "CoreMessage[", "AMQPStandardMessage[", "AMQPLargeMessage[", "TypedProperties["
  };

  public StompErrorRedaction() {}

  @Override
  public boolean intercept(StompFrame frame, RemotingConnection connection) {
    if (!"ERROR".equals(frame.getCommand())) {
      return true;
    }
    String message = frame.getHeader("message");
    String redacted = redact(message);
    if (redacted != message) {
      // The map, not addHeader(): a STOMP 1.1/1.2 frame keeps the first value of a header.
      frame.getHeadersMap().put("message", redacted);
    }
    byte[] body = frame.getBodyAsBytes();
    if (body != null && body.length > 0) {
      String text = new String(body, StandardCharsets.UTF_8);
      String kept = redact(text);
      if (kept != text) {
        frame.setByteBody(kept.getBytes(StandardCharsets.UTF_8));
      }
    }
    return true;
  }

  /** {@code text} up to the first quoted message, then {@link #WITHHELD}; as it is without one. */
  static String redact(String text) {
    if (text == null) {
      return null;
    }
    int at = -1;
    for (String marker : MARKERS) {
      int i = text.indexOf(marker);
      if (i >= 0 && (at < 0 || i < at)) {
        at = i;
      }
    }
    return at < 0 ? text : text.substring(0, at).stripTrailing() + " " + WITHHELD;
  }
}
