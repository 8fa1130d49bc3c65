package dev.parley.codec.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamWriteConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import dev.parley.codec.spi.SchemaTypes;
import java.io.IOException;
import java.util.Objects;

/**
 * JSON through Jackson with safe defaults: no polymorphic (default) typing, a payload size limit, a
 * nesting-depth limit and string/number length limits, dates as ISO-8601 strings, unknown
 * properties ignored so producers can add fields. Records and Java time types work out of the box.
 * Thread-safe.
 *
 * <pre>{@code
 * Codec json = JsonCodec.builder().maxPayloadBytes(1 << 20).build();
 * }</pre>
 */
public final class JsonCodec implements Codec {

  /** The content type written and read. */
  public static final String CONTENT_TYPE = "application/json";

  private final ObjectMapper mapper;
  private final int maxPayloadBytes;

  private JsonCodec(ObjectMapper mapper, int maxPayloadBytes) {
    this.mapper = mapper;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** A codec with the default limits (1 MiB payloads, depth 64). */
  public static JsonCodec of() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** Plain classes; Protobuf, Avro and Thrift types are left to their own codecs. */
  @Override
  public boolean supports(Class<?> type) {
    return !SchemaTypes.isSchemaGenerated(type);
  }

  @Override
  public byte[] encode(Object value) {
    try {
      byte[] bytes = mapper.writeValueAsBytes(value);
      Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
      return bytes;
    } catch (StreamConstraintsException e) {
      throw new CodecException(
          CodecException.TOO_DEEP, "value exceeds a JSON limit: " + e.getOriginalMessage(), e);
    } catch (JsonProcessingException e) {
      throw new CodecException(
          CodecException.UNENCODABLE, "cannot write as JSON: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    try {
      T value = mapper.readValue(bytes, type);
      if (value == null) {
        throw new CodecException(
            CodecException.MALFORMED,
            "payload is JSON null (expected: a " + type.getSimpleName() + ")");
      }
      return value;
    } catch (JsonProcessingException e) {
      StreamConstraintsException limit = limitExceeded(e);
      if (limit != null) {
        String code =
            String.valueOf(limit.getMessage()).contains("depth")
                ? CodecException.TOO_DEEP
                : CodecException.TOO_LARGE;
        throw new CodecException(code, "JSON exceeds a limit: " + limit.getOriginalMessage(), e);
      }
      throw new CodecException(
          CodecException.MALFORMED,
          "not a valid " + type.getSimpleName() + " in JSON: " + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new CodecException(CodecException.MALFORMED, "unreadable JSON payload", e);
    } catch (StackOverflowError e) {
      throw new CodecException(CodecException.TOO_DEEP, "JSON nests too deeply", null);
    }
  }

  private static StreamConstraintsException limitExceeded(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StreamConstraintsException limit) {
        return limit;
      }
    }
    return null;
  }

  /** Configures a {@link JsonCodec}. Not thread-safe. */
  public static final class Builder {
    private int maxPayloadBytes = 1 << 20;
    private int maxDepth = 64;
    private int maxStringLength = 1 << 20;
    private int maxNumberLength = 100;

    private Builder() {}

    /** Largest payload accepted or produced; default 1 MiB. */
    public Builder maxPayloadBytes(int maxPayloadBytes) {
      this.maxPayloadBytes = Limits.positive(maxPayloadBytes, "maxPayloadBytes");
      return this;
    }

    /** Deepest nesting of objects and arrays; default 64. */
    public Builder maxDepth(int maxDepth) {
      this.maxDepth = Limits.positive(maxDepth, "maxDepth");
      return this;
    }

    /** Longest string value, in characters; default 1 Mi. */
    public Builder maxStringLength(int maxStringLength) {
      this.maxStringLength = Limits.positive(maxStringLength, "maxStringLength");
      return this;
    }

    /** Longest number literal, in characters; default 100. */
    public Builder maxNumberLength(int maxNumberLength) {
      this.maxNumberLength = Limits.positive(maxNumberLength, "maxNumberLength");
      return this;
    }

    public JsonCodec build() {
      JsonMapper mapper =
          JsonMapper.builder(
                  JsonFactory.builder()
                      .streamReadConstraints(
                          StreamReadConstraints.builder()
                              .maxNestingDepth(maxDepth)
                              .maxStringLength(maxStringLength)
                              .maxNumberLength(maxNumberLength)
                              .maxDocumentLength(maxPayloadBytes)
                              .build())
                      .streamWriteConstraints(
                          StreamWriteConstraints.builder().maxNestingDepth(maxDepth).build())
                      .build())
              .addModule(new ParameterNamesModule())
              .addModule(new Jdk8Module())
              .addModule(new JavaTimeModule())
              .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
              .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
              .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
              .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
              .disable(MapperFeature.ALLOW_FINAL_FIELDS_AS_MUTATORS)
              .deactivateDefaultTyping()
              .build();
      return new JsonCodec(mapper, maxPayloadBytes);
    }
  }
}
