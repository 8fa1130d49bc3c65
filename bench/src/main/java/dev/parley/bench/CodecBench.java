package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import dev.parley.codec.Codec;
import dev.parley.codec.avro.AvroCodec;
import dev.parley.codec.avro.AvroFixtures;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.codec.protobuf.ProtobufFixtures;
import dev.parley.codec.thrift.ThriftCodec;
import dev.parley.codec.thrift.ThriftFixtures;
import dev.parley.codec.xml.XmlCodec;
import dev.parley.testing.tck.CodecFixtures;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TDeserializer;
import org.apache.thrift.TSerializer;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Each Parley codec against the direct library call on the same ~1 KiB "medium" fixture, encode and
 * decode: Jackson {@code ObjectMapper}/{@code XmlMapper} with the same modules, protobuf {@code
 * toByteArray}/{@code parseFrom}, Avro's generated single-object encoder/decoder, libthrift's
 * {@code TSerializer}/{@code TDeserializer}. Setup checks the body bytes are identical.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class CodecBench {

  @FunctionalInterface
  interface Encoder {
    byte[] encode(Object value) throws Exception;
  }

  @FunctionalInterface
  interface Decoder {
    Object decode(byte[] bytes) throws Exception;
  }

  @Param({"json", "xml", "protobuf", "avro", "thrift"})
  public String format;

  private Object value;
  private Class<?> type;
  private Codec codec;
  private Encoder rawEncoder;
  private Decoder rawDecoder;
  private byte[] bytes;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    switch (format) {
      case "json" -> {
        value = CodecFixtures.plainJava().medium();
        codec = JsonCodec.of();
        ObjectMapper mapper =
            JsonMapper.builder()
                .addModule(new ParameterNamesModule())
                .addModule(new Jdk8Module())
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .build();
        rawEncoder = mapper::writeValueAsBytes;
        rawDecoder = b -> mapper.readValue(b, CodecFixtures.Medium.class);
      }
      case "xml" -> {
        value = CodecFixtures.plainJava().medium();
        codec = XmlCodec.of();
        XmlMapper mapper =
            XmlMapper.builder()
                .addModule(new ParameterNamesModule())
                .addModule(new Jdk8Module())
                .addModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .build();
        rawEncoder = mapper::writeValueAsBytes;
        rawDecoder = b -> mapper.readValue(b, CodecFixtures.Medium.class);
      }
      case "protobuf" -> {
        value = ProtobufFixtures.all().medium();
        codec = ProtobufCodec.of();
        rawEncoder = v -> ((com.google.protobuf.Message) v).toByteArray();
        rawDecoder = dev.parley.codec.protobuf.fixtures.Medium::parseFrom;
      }
      case "avro" -> {
        value = AvroFixtures.all().medium();
        codec = AvroCodec.of();
        rawEncoder =
            v -> {
              java.nio.ByteBuffer b =
                  dev.parley.codec.avro.fixtures.Medium.getEncoder()
                      .encode((dev.parley.codec.avro.fixtures.Medium) v);
              return Arrays.copyOfRange(
                  b.array(), b.arrayOffset() + b.position(), b.arrayOffset() + b.limit());
            };
        rawDecoder = b -> dev.parley.codec.avro.fixtures.Medium.getDecoder().decode(b);
      }
      case "thrift" -> {
        value = ThriftFixtures.all().medium();
        codec = ThriftCodec.binary();
        TSerializer serializer = new TSerializer(new TBinaryProtocol.Factory());
        TDeserializer deserializer = new TDeserializer(new TBinaryProtocol.Factory());
        rawEncoder = v -> serializer.serialize((org.apache.thrift.TBase<?, ?>) v);
        rawDecoder =
            b -> {
              dev.parley.codec.thrift.fixtures.Medium m =
                  new dev.parley.codec.thrift.fixtures.Medium();
              deserializer.deserialize(m, b);
              return m;
            };
      }
      default -> throw new IllegalArgumentException(format);
    }
    type = value.getClass();
    bytes = codec.encode(value);
    byte[] raw = rawEncoder.encode(value);
    if (!Arrays.equals(bytes, raw)) {
      throw new IllegalStateException(
          format + ": Parley and the raw library write different bytes");
    }
    if (!codec.decode(bytes, type).equals(value) || !rawDecoder.decode(bytes).equals(value)) {
      throw new IllegalStateException(format + ": round trip differs");
    }
  }

  @Benchmark
  public byte[] parleyEncode() {
    return codec.encode(value);
  }

  @Benchmark
  public byte[] rawEncode() throws Exception {
    return rawEncoder.encode(value);
  }

  @Benchmark
  public Object parleyDecode() {
    return codec.decode(bytes, type);
  }

  @Benchmark
  public Object rawDecode() throws Exception {
    return rawDecoder.decode(bytes);
  }
}
