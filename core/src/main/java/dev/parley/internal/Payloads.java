package dev.parley.internal;

import dev.parley.message.Message;
import java.util.Map;
import java.util.Objects;

/**
 * The payload of a {@link Message} without a copy, for Parley's own transports, codecs and stores:
 * {@link Message#payload()} copies on every call and {@link Message.Builder#payload} on every set,
 * which on the way from a codec to the wire and back copied each payload four times.
 *
 * <p>The contract is the caller's: an array read with {@link #shared} is the message's own and is
 * never written to; an array given to {@link #adopt} is handed over and never written to again.
 * Everyone else uses {@link Message#payloadView()}.
 */
public final class Payloads {

  /** What {@link Message} lets this class do; installed by its class initialiser. */
  public interface Access {
    byte[] shared(Message message);

    Message.Builder adopt(Message.Builder builder, byte[] payload);

    Message.Builder adoptHeaders(Message.Builder builder, Map<String, String> headers);
  }

  private static volatile Access access;

  private Payloads() {}

  /** Called once, by {@link Message}. */
  public static void install(Access a) {
    if (access != null) {
      throw new IllegalStateException("already installed");
    }
    access = Objects.requireNonNull(a);
  }

  /** The message's own payload array: read it, never write to it. */
  public static byte[] shared(Message message) {
    return access().shared(message);
  }

  /**
   * Sets {@code payload} on {@code builder} without a copy: the caller hands the array over (a
   * codec's fresh output, bytes just read off the wire) and never writes to it again.
   */
  public static Message.Builder adopt(Message.Builder builder, byte[] payload) {
    return access().adopt(builder, payload);
  }

  /** A builder for a new message with {@code payload} handed over, as {@link #adopt}. */
  public static Message.Builder builder(byte[] payload) {
    return adopt(Message.builder(), payload);
  }

  /**
   * A builder for a message read off the wire: {@code headers} (the id among them, if any) and
   * {@code payload} both handed over, without a copy or a check per header — {@link
   * Message.Builder#build()} checks every header against the limits once, as for any message. A
   * {@link java.util.LinkedHashMap} is kept as it is (the builder may add the id to it); any other
   * map is copied.
   */
  public static Message.Builder builder(Map<String, String> headers, byte[] payload) {
    return access().adoptHeaders(adopt(Message.builder(), payload), headers);
  }

  private static Access access() {
    Access a = access;
    if (a == null) {
      // Message's initialiser installs it; a Builder alone does not run that initialiser
      try {
        Class.forName(Message.class.getName(), true, Message.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      a = access;
    }
    return a;
  }
}
