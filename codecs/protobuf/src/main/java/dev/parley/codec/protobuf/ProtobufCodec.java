package dev.parley.codec.protobuf;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import java.util.Locale;
import java.util.Objects;

/**
 * Protocol Buffers binary encoding of generated message classes ({@code application/x-protobuf}).
 * Decoding is bounded: payload size, nesting (recursion) depth; proto3 strings must be valid UTF-8;
 * failures are {@link CodecException}s. Unknown fields are kept, so an old reader passes a newer
 * writer's fields through. Thread-safe.
 */
public final class ProtobufCodec implements Codec {

  /** The content type written and read. */
  public static final String CONTENT_TYPE = "application/x-protobuf";

  private final int maxPayloadBytes;
  private final int maxDepth;

  private ProtobufCodec(int maxPayloadBytes, int maxDepth) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxDepth = maxDepth;
  }

  /** A codec with the default limits (1 MiB payloads, depth 64). */
  public static ProtobufCodec of() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** Generated protobuf message classes. */
  @Override
  public boolean supports(Class<?> type) {
    return ProtobufTypes.isMessage(type);
  }

  @Override
  public byte[] encode(Object value) {
    if (!(value instanceof Message message)) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          "not a protobuf message: " + (value == null ? "null" : value.getClass().getName()));
    }
    Limits.checkPayloadSize(message.getSerializedSize(), maxPayloadBytes);
    return message.toByteArray();
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    Message prototype = ProtobufTypes.defaultInstance(type);
    CodedInputStream in = CodedInputStream.newInstance(bytes);
    in.setRecursionLimit(maxDepth);
    in.setSizeLimit(maxPayloadBytes);
    try {
      Message parsed =
          prototype.getParserForType().parseFrom(in, ExtensionRegistryLite.getEmptyRegistry());
      in.checkLastTagWas(0);
      return type.cast(parsed);
    } catch (InvalidProtocolBufferException e) {
      String message = String.valueOf(e.getMessage());
      String code =
          message.toLowerCase(Locale.ROOT).contains("recursion")
              ? CodecException.TOO_DEEP
              : CodecException.MALFORMED;
      throw new CodecException(
          code, "not a valid " + type.getSimpleName() + " in protobuf: " + message, e);
    } catch (RuntimeException e) {
      throw new CodecException(
          CodecException.MALFORMED, "not a valid " + type.getSimpleName() + " in protobuf", e);
    }
  }

  /** Configures a {@link ProtobufCodec}. Not thread-safe. */
  public static final class Builder {
    private int maxPayloadBytes = 1 << 20;
    private int maxDepth = 64;

    private Builder() {}

    public Builder maxPayloadBytes(int maxPayloadBytes) {
      this.maxPayloadBytes = Limits.positive(maxPayloadBytes, "maxPayloadBytes");
      return this;
    }

    /** Deepest message nesting; default 64 (protobuf's own default is 100). */
    public Builder maxDepth(int maxDepth) {
      this.maxDepth = Limits.positive(maxDepth, "maxDepth");
      return this;
    }

    public ProtobufCodec build() {
      return new ProtobufCodec(maxPayloadBytes, maxDepth);
    }
  }
}
