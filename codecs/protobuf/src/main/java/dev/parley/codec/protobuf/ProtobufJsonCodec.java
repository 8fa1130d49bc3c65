package dev.parley.codec.protobuf;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * The canonical proto3 JSON mapping of generated message classes ({@code application/json}, the
 * same content type as plain JSON: {@link dev.parley.codec.Codecs} picks this codec for protobuf
 * types). Lets a channel carry protobuf messages readable by browsers and JSON-only clients, and
 * move between JSON and binary protobuf without downtime. Unknown JSON fields are ignored. Bounded
 * like {@link ProtobufCodec}. Thread-safe.
 */
public final class ProtobufJsonCodec implements Codec {

  public static final String CONTENT_TYPE = "application/json";

  private final int maxPayloadBytes;
  private final int maxDepth;
  private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
  private final JsonFormat.Parser parser;

  private ProtobufJsonCodec(int maxPayloadBytes, int maxDepth) {
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxDepth = maxDepth;
    this.parser = JsonFormat.parser().ignoringUnknownFields();
  }

  /** A codec with the default limits (1 MiB payloads, depth 64). */
  public static ProtobufJsonCodec of() {
    return of(1 << 20, 64);
  }

  public static ProtobufJsonCodec of(int maxPayloadBytes, int maxDepth) {
    return new ProtobufJsonCodec(
        Limits.positive(maxPayloadBytes, "maxPayloadBytes"), Limits.positive(maxDepth, "maxDepth"));
  }

  /** Linear scan of object/array nesting outside strings, before the recursive parser runs. */
  static boolean nestingExceeds(String json, int max) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        if (++depth > max) {
          return true;
        }
      } else if (c == '}' || c == ']') {
        depth--;
      }
    }
    return false;
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

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
    try {
      byte[] bytes = printer.print(message).getBytes(StandardCharsets.UTF_8);
      Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
      return bytes;
    } catch (InvalidProtocolBufferException e) {
      throw new CodecException(
          CodecException.UNENCODABLE, "cannot write as JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    Message.Builder builder = ProtobufTypes.defaultInstance(type).newBuilderForType();
    try {
      String json =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
      if (nestingExceeds(json, maxDepth)) {
        throw new CodecException(CodecException.TOO_DEEP, "JSON nests deeper than " + maxDepth);
      }
      parser.merge(json, builder);
      return type.cast(builder.build());
    } catch (CharacterCodingException e) {
      throw new CodecException(CodecException.MALFORMED, "payload is not valid UTF-8", e);
    } catch (InvalidProtocolBufferException e) {
      String message = String.valueOf(e.getMessage());
      String code =
          message.toLowerCase(Locale.ROOT).contains("recursion") || message.contains("nesting")
              ? CodecException.TOO_DEEP
              : CodecException.MALFORMED;
      throw new CodecException(
          code, "not a valid " + type.getSimpleName() + " in JSON: " + message, e);
    } catch (CodecException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CodecException(
          CodecException.MALFORMED, "not a valid " + type.getSimpleName() + " in JSON", e);
    } catch (StackOverflowError e) {
      throw new CodecException(CodecException.TOO_DEEP, "JSON nests too deeply", null);
    }
  }
}
