package dev.parley.message;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable message: an id, string headers and an opaque payload.
 *
 * <p>The id is a time-ordered UUIDv7 string ({@link MessageIds}); headers are the wire contract
 * named in {@link Headers}; the payload is whatever the message's codec produced. Instances are
 * thread-safe. Build one with {@link #builder()} or derive a copy with {@link #toBuilder()}.
 */
public final class Message {

  static {
    // Parley's transports and codecs read the payload array itself (dev.parley.internal.Payloads)
    dev.parley.internal.Payloads.install(
        new dev.parley.internal.Payloads.Access() {
          @Override
          public byte[] shared(Message message) {
            return message.payload;
          }

          @Override
          public Builder adopt(Builder builder, byte[] payload) {
            builder.payload = Objects.requireNonNull(payload, "payload");
            return builder;
          }

          @Override
          public Builder adoptHeaders(Builder builder, Map<String, String> headers) {
            Map<String, String> map =
                headers instanceof LinkedHashMap<String, String> linked
                    ? linked
                    : new LinkedHashMap<>(headers);
            String id = map.get(Headers.ID);
            if (id == null && map.containsKey(Headers.ID)) {
              throw new IllegalArgumentException(Headers.ID + ": no value");
            }
            // The id stays in the map, where it was; build() checks it with the other headers.
            builder.id = id;
            builder.headers = map;
            builder.handedOver = false;
            return builder;
          }
        });
  }

  private final String id;
  private final Map<String, String> headers;
  private final byte[] payload;

  private Message(Builder builder) {
    this.id = builder.id != null ? builder.id : MessageIds.next();
    // The builder hands its header map over and copies it before its next change; its payload
    // array is private to it and never written to, so the message shares it (one copy in all,
    // made when the payload was given to the builder).
    Map<String, String> map = builder.handOver();
    map.put(Headers.ID, id);
    String violation = HeaderLimits.violation(map);
    if (violation != null) {
      throw new IllegalArgumentException(
          "message " + HeaderLimits.printable(id) + ": " + violation);
    }
    this.headers = Collections.unmodifiableMap(map);
    this.payload = builder.payload;
  }

  /** Returns a builder for a new message; a fresh id is generated unless one is set. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a builder that starts as a copy of this message (same id, headers and payload). */
  public Builder toBuilder() {
    Builder b = new Builder().id(id);
    b.payload = payload; // never written to: shared, as by the messages the builder makes
    b.headers.putAll(headers);
    b.headers.remove(Headers.ID);
    return b;
  }

  /** The message id, also present as the {@link Headers#ID} header. */
  public String id() {
    return id;
  }

  /** All headers, unmodifiable, including {@link Headers#ID}. */
  public Map<String, String> headers() {
    return headers;
  }

  /** The value of a header, if present. */
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name));
  }

  /** A copy of the payload bytes. */
  public byte[] payload() {
    return payload.clone();
  }

  /**
   * The payload without a copy: a read-only buffer over the message's own bytes, positioned at 0,
   * whose limit is the payload length. Each call returns a new buffer.
   */
  public ByteBuffer payloadView() {
    return ByteBuffer.wrap(payload).asReadOnlyBuffer();
  }

  /** The payload length in bytes. */
  public int payloadSize() {
    return payload.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Message m
        && id.equals(m.id)
        && headers.equals(m.headers)
        && Arrays.equals(payload, m.payload);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, headers, Arrays.hashCode(payload));
  }

  /** Never prints the payload: payloads may hold personal data. */
  @Override
  public String toString() {
    return "Message{id=" + id + ", headers=" + headers + ", payloadSize=" + payload.length + '}';
  }

  /** Builds a {@link Message}. Not thread-safe. */
  public static final class Builder {
    private static final byte[] EMPTY = new byte[0];

    private String id;
    private Map<String, String> headers = new LinkedHashMap<>();

    /** Whether a built message holds {@link #headers}: copy before the next change. */
    private boolean handedOver;

    private byte[] payload = EMPTY;

    private Builder() {}

    /** The header map for a new message; the builder copies it before it changes it again. */
    private Map<String, String> handOver() {
      if (handedOver) {
        headers = new LinkedHashMap<>(headers);
      }
      handedOver = true;
      return headers;
    }

    private Map<String, String> writable() {
      if (handedOver) {
        headers = new LinkedHashMap<>(headers);
        headers.remove(Headers.ID);
        handedOver = false;
      }
      return headers;
    }

    /** Sets the id; by default a new UUIDv7 is generated. */
    public Builder id(String id) {
      this.id = requireNonBlank(id, "id");
      return this;
    }

    /** Sets a header, replacing any earlier value. */
    public Builder header(String name, String value) {
      requireNonBlank(name, "header name");
      Objects.requireNonNull(value, "header value: null (expected: a string) for " + name);
      if (Headers.ID.equals(name)) {
        return id(value);
      }
      writable().put(name, value);
      return this;
    }

    /** Removes a header if present. */
    public Builder removeHeader(String name) {
      writable().remove(name);
      return this;
    }

    /** Sets the payload; the array is copied. */
    public Builder payload(byte[] payload) {
      this.payload = Objects.requireNonNull(payload, "payload").clone();
      return this;
    }

    /**
     * Builds the message.
     *
     * @throws IllegalArgumentException when the id or headers are past {@link HeaderLimits}
     */
    public Message build() {
      return new Message(this);
    }

    private static String requireNonBlank(String value, String what) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(what + ": '" + value + "' (expected: non-blank)");
      }
      return value;
    }
  }
}
