package dev.parley.codec.avro;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro binary for classes generated from {@code .avsc} schemas ({@code avro/binary}), in Avro's
 * single-object encoding: {@code C3 01}, the 8-byte CRC-64-AVRO fingerprint of the writer schema
 * (little-endian), then the datum. A reader looks the writer schema up in the {@link
 * AvroSchemaStore} and resolves it to its own schema, so producers and consumers may be on
 * different, compatible versions; an unknown fingerprint fails with {@code
 * parley.codec.unknown_schema}, an incompatible pair with {@code parley.codec.incompatible_schema}
 * and a message naming each problem. Declared lengths are checked against the payload before
 * anything is allocated; strings must be valid UTF-8; records nest at most {@code maxDepth} deep.
 *
 * <p>Avro only instantiates generated classes from trusted packages: list yours in the {@code
 * org.apache.avro.SERIALIZABLE_PACKAGES} system property. Thread-safe.
 */
public final class AvroCodec implements Codec {

  /** The content type written and read. */
  public static final String CONTENT_TYPE = "avro/binary";

  private static final int HEADER = 10;

  private final AvroSchemaStore store;
  private final int maxPayloadBytes;
  private final int maxDepth;
  private final Map<Schema, Long> fingerprints = new ConcurrentHashMap<>();
  private final Map<Class<?>, Schema> readerSchemas = new ConcurrentHashMap<>();
  private final Map<Class<?>, SpecificData> readerModels = new ConcurrentHashMap<>();
  private final Map<ResolutionKey, String> incompatibilities = new ConcurrentHashMap<>();
  private final Map<Schema, SpecificDatumWriter<Object>> writers = new ConcurrentHashMap<>();
  private final ThreadLocal<Map<ResolutionKey, org.apache.avro.io.DatumReader<?>>> readers =
      ThreadLocal.withInitial(java.util.HashMap::new);
  private final ThreadLocal<Output> outputs = ThreadLocal.withInitial(Output::new);
  private final ThreadLocal<BoundedDecoder> decoders = ThreadLocal.withInitial(BoundedDecoder::new);
  private final ThreadLocal<LastRead> lastReads = ThreadLocal.withInitial(LastRead::new);

  /** A thread's last (writer fingerprint, type) → reader: the common case skips every lookup. */
  private static final class LastRead {
    long fingerprint;
    Class<?> type;
    org.apache.avro.io.DatumReader<?> reader;
  }

  /** A thread's reusable output buffer and encoder. */
  private static final class Output {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    BinaryEncoder encoder;
  }

  private record ResolutionKey(long writer, Schema reader) {}

  private AvroCodec(Builder b) {
    this.store = b.store;
    this.maxPayloadBytes = b.maxPayloadBytes;
    this.maxDepth = b.maxDepth;
  }

  /** A codec with an in-memory schema store and the default limits (1 MiB, depth 64). */
  public static AvroCodec of() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String contentType() {
    return CONTENT_TYPE;
  }

  /** Generated Avro record classes. */
  @Override
  public boolean supports(Class<?> type) {
    return SpecificRecord.class.isAssignableFrom(type);
  }

  @Override
  public byte[] encode(Object value) {
    if (!(value instanceof SpecificRecord record)) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          "not a generated Avro record: " + (value == null ? "null" : value.getClass().getName()));
    }
    Schema schema = record.getSchema();
    long fingerprint =
        fingerprints.computeIfAbsent(
            schema,
            s -> {
              store.register(s);
              return AvroSchemaStore.fingerprint(s);
            });
    Output output = outputs.get();
    ByteArrayOutputStream out = output.bytes;
    out.reset();
    out.write(0xC3);
    out.write(0x01);
    for (int i = 0; i < 8; i++) {
      out.write((int) (fingerprint >>> (8 * i)));
    }
    try {
      output.encoder = EncoderFactory.get().binaryEncoder(out, output.encoder);
      writers
          .computeIfAbsent(schema, s -> new SpecificDatumWriter<>(s, SpecificData.getForSchema(s)))
          .write(record, output.encoder);
      output.encoder.flush();
    } catch (IOException | AvroRuntimeException | ClassCastException | NullPointerException e) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          "cannot write " + schema.getFullName() + ": " + e.getMessage(),
          e);
    }
    Limits.checkPayloadSize(out.size(), maxPayloadBytes);
    return out.toByteArray();
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    if (bytes.length < HEADER || bytes[0] != (byte) 0xC3 || bytes[1] != 0x01) {
      throw new CodecException(
          CodecException.MALFORMED,
          "not Avro single-object encoding (expected: C3 01 + fingerprint)");
    }
    long fingerprint = 0;
    for (int i = 0; i < 8; i++) {
      fingerprint |= (bytes[2 + i] & 0xFFL) << (8 * i);
    }
    LastRead last = lastReads.get();
    org.apache.avro.io.DatumReader<?> cached =
        last.type == type && last.fingerprint == fingerprint
            ? last.reader
            : resolveReader(fingerprint, type);
    last.fingerprint = fingerprint;
    last.type = type;
    last.reader = cached;
    BoundedDecoder decoder = decoders.get().reset(bytes, HEADER);
    try {
      T value = type.cast(cached.read(null, decoder));
      if (decoder.remaining() != 0) {
        throw new CodecException(
            CodecException.MALFORMED,
            decoder.remaining() + " bytes left after the " + type.getSimpleName());
      }
      return value;
    } catch (DepthLimitedReader.TooDeep e) {
      throw new CodecException(CodecException.TOO_DEEP, e.getMessage(), e);
    } catch (StackOverflowError e) {
      throw new CodecException(CodecException.TOO_DEEP, "Avro records nest too deeply", null);
    } catch (IOException | RuntimeException e) {
      if (e instanceof CodecException c) {
        throw c;
      }
      throw new CodecException(
          CodecException.MALFORMED,
          "not a valid " + type.getSimpleName() + " in Avro: " + e.getMessage(),
          e);
    }
  }

  /**
   * Finds the writer schema, checks it resolves to {@code type}'s schema, and returns the reader.
   */
  private org.apache.avro.io.DatumReader<?> resolveReader(long fp, Class<?> type) {
    Schema reader = readerSchema(type);
    Schema writer =
        store
            .find(fp)
            .orElseThrow(
                () ->
                    new CodecException(
                        CodecException.UNKNOWN_SCHEMA,
                        String.format(
                            "writer schema %016x is not in the schema store (register it with AvroSchemaStore.register)",
                            fp)));
    ResolutionKey key = new ResolutionKey(fp, reader);
    String problem = incompatibilities.computeIfAbsent(key, k -> incompatibility(writer, reader));
    if (!problem.isEmpty()) {
      throw new CodecException(CodecException.INCOMPATIBLE_SCHEMA, problem);
    }
    return readers
        .get()
        .computeIfAbsent(
            key,
            k ->
                isRecursive(writer) || isRecursive(reader)
                    ? new DepthLimitedReader<>(writer, reader, readerModel(type), maxDepth)
                    : new org.apache.avro.specific.SpecificDatumReader<>(
                        writer, reader, SpecificData.getForClass(type)));
  }

  private Schema readerSchema(Class<?> type) {
    if (!supports(type)) {
      throw new CodecException(
          CodecException.UNSUPPORTED_CONTENT_TYPE,
          type.getName() + " is not a generated Avro record");
    }
    return readerSchemas.computeIfAbsent(
        type,
        t -> {
          Schema schema = SpecificData.get().getSchema(t);
          store.register(schema);
          return schema;
        });
  }

  /**
   * Whether a schema can nest without bound (a record reachable from itself). Only such schemas
   * need the depth-checked reader; the nesting of any other is bounded by the schema itself, so
   * those use Avro's fast paths (generated coders, fast reader).
   */
  static boolean isRecursive(Schema schema) {
    return recursive(schema, new java.util.HashSet<>());
  }

  private static boolean recursive(Schema schema, java.util.Set<String> path) {
    switch (schema.getType()) {
      case RECORD -> {
        if (!path.add(schema.getFullName())) {
          return true;
        }
        for (Schema.Field f : schema.getFields()) {
          if (recursive(f.schema(), path)) {
            return true;
          }
        }
        path.remove(schema.getFullName());
        return false;
      }
      case ARRAY -> {
        return recursive(schema.getElementType(), path);
      }
      case MAP -> {
        return recursive(schema.getValueType(), path);
      }
      case UNION -> {
        for (Schema branch : schema.getTypes()) {
          if (recursive(branch, path)) {
            return true;
          }
        }
        return false;
      }
      default -> {
        return false;
      }
    }
  }

  /**
   * The class's data model (its logical-type conversions) with generated custom coders and the fast
   * reader off: both decode nested records directly, past the depth check in {@link
   * DepthLimitedReader}.
   */
  private SpecificData readerModel(Class<?> type) {
    return readerModels.computeIfAbsent(
        type,
        t -> {
          SpecificData generated = SpecificData.getForClass(t);
          SpecificData model = new SpecificData(t.getClassLoader());
          generated.getConversions().forEach(model::addLogicalTypeConversion);
          model.setCustomCoders(false);
          model.setFastReaderEnabled(false);
          return model;
        });
  }

  private static String incompatibility(Schema writer, Schema reader) {
    SchemaCompatibility.SchemaPairCompatibility result =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return "";
    }
    return "data written with "
        + writer.getFullName()
        + " cannot be read as "
        + reader.getFullName()
        + ": "
        + AvroCompatibility.describe(result);
  }

  /** Configures an {@link AvroCodec}. Not thread-safe. */
  public static final class Builder {
    private AvroSchemaStore store = AvroSchemaStore.inMemory();
    private int maxPayloadBytes = 1 << 20;
    private int maxDepth = 64;

    private Builder() {}

    /** Where writer schemas are found by fingerprint; default: in memory. */
    public Builder schemaStore(AvroSchemaStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    public Builder maxPayloadBytes(int maxPayloadBytes) {
      if (maxPayloadBytes < HEADER) {
        throw new IllegalArgumentException(
            "maxPayloadBytes: " + maxPayloadBytes + " (expected: >= " + HEADER + ")");
      }
      this.maxPayloadBytes = maxPayloadBytes;
      return this;
    }

    public Builder maxDepth(int maxDepth) {
      this.maxDepth = Limits.positive(maxDepth, "maxDepth");
      return this;
    }

    public AvroCodec build() {
      return new AvroCodec(this);
    }
  }
}
