package dev.parley.codec.thrift;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.spi.Limits;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.util.Objects;
import org.apache.thrift.TBase;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TIOStreamTransport;
import org.apache.thrift.transport.TMemoryInputTransport;

/**
 * Thrift structs generated from {@code .thrift} files, in the binary ({@code
 * application/vnd.apache.thrift.binary}) or compact ({@code application/vnd.apache.thrift.compact})
 * protocol. Decoding is bounded (payload size, every declared length, struct depth), strings must
 * be valid UTF-8, required fields are validated, and trailing bytes are refused. Thread-safe.
 */
public final class ThriftCodec implements Codec {

  /** Which Thrift protocol. */
  public enum Protocol {
    BINARY("application/vnd.apache.thrift.binary"),
    COMPACT("application/vnd.apache.thrift.compact");

    private final String contentType;

    Protocol(String contentType) {
      this.contentType = contentType;
    }

    public String contentType() {
      return contentType;
    }
  }

  private static final ClassValue<Constructor<?>> CONSTRUCTORS =
      new ClassValue<>() {
        @Override
        protected Constructor<?> computeValue(Class<?> type) {
          try {
            return type.getConstructor();
          } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(
                type.getName() + " has no public no-argument constructor", e);
          }
        }
      };

  private static final byte[] NOTHING = new byte[0];

  private final Protocol protocol;
  private final int maxPayloadBytes;
  private final int maxDepth;
  private final TConfiguration configuration;
  private final ThreadLocal<Output> outputs = ThreadLocal.withInitial(this::newOutput);
  private final ThreadLocal<Input> inputs = ThreadLocal.withInitial(this::newInput);

  /** A thread's reusable reading transport and protocol, reset for each payload. */
  private record Input(TMemoryInputTransport transport, TProtocol protocol) {}

  private Input newInput() {
    try {
      TMemoryInputTransport transport = new TMemoryInputTransport(configuration);
      return new Input(
          transport,
          protocol == Protocol.BINARY
              ? StrictReads.binary(transport, maxPayloadBytes, maxDepth)
              : StrictReads.compact(transport, maxPayloadBytes, maxDepth));
    } catch (org.apache.thrift.transport.TTransportException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A thread's reusable buffer and writing protocol. */
  private record Output(ByteArrayOutputStream bytes, TProtocol protocol) {}

  private Output newOutput() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
    TIOStreamTransport transport;
    try {
      transport = new TIOStreamTransport(configuration, bytes);
    } catch (org.apache.thrift.transport.TTransportException e) {
      throw new IllegalStateException(e);
    }
    return new Output(
        bytes,
        protocol == Protocol.BINARY
            ? new TBinaryProtocol(transport)
            : new TCompactProtocol(transport));
  }

  private ThriftCodec(Protocol protocol, int maxPayloadBytes, int maxDepth) {
    this.protocol = protocol;
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxDepth = maxDepth;
    this.configuration = new TConfiguration(maxPayloadBytes, maxPayloadBytes, maxDepth);
  }

  /** The binary protocol with the default limits (1 MiB, depth 64). */
  public static ThriftCodec binary() {
    return of(Protocol.BINARY, 1 << 20, 64);
  }

  /** The compact protocol with the default limits (1 MiB, depth 64). */
  public static ThriftCodec compact() {
    return of(Protocol.COMPACT, 1 << 20, 64);
  }

  public static ThriftCodec of(Protocol protocol, int maxPayloadBytes, int maxDepth) {
    Objects.requireNonNull(protocol, "protocol");
    Limits.positive(maxPayloadBytes, "maxPayloadBytes");
    Limits.positive(maxDepth, "maxDepth");
    return new ThriftCodec(protocol, maxPayloadBytes, maxDepth);
  }

  @Override
  public String contentType() {
    return protocol.contentType();
  }

  /** Generated Thrift structs. */
  @Override
  public boolean supports(Class<?> type) {
    return TBase.class.isAssignableFrom(type);
  }

  @Override
  public byte[] encode(Object value) {
    if (!(value instanceof TBase<?, ?> struct)) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          "not a Thrift struct: " + (value == null ? "null" : value.getClass().getName()));
    }
    Output output = outputs.get();
    ByteArrayOutputStream out = output.bytes();
    out.reset();
    try {
      output.protocol().reset();
      struct.write(output.protocol());
    } catch (TException | RuntimeException e) {
      throw new CodecException(
          CodecException.UNENCODABLE,
          "cannot write " + value.getClass().getSimpleName() + ": " + e.getMessage(),
          e);
    }
    Limits.checkPayloadSize(out.size(), maxPayloadBytes);
    return out.toByteArray();
  }

  @Override
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(type, "type");
    if (!supports(type)) {
      throw new CodecException(
          CodecException.UNSUPPORTED_CONTENT_TYPE, type.getName() + " is not a Thrift struct");
    }
    Limits.checkPayloadSize(bytes.length, maxPayloadBytes);
    try {
      TBase<?, ?> struct = (TBase<?, ?>) CONSTRUCTORS.get(type).newInstance();
      Input input = inputs.get();
      TMemoryInputTransport transport = input.transport();
      // Read in place: strings are decoded into Strings and binary fields copied out
      // (StrictReads), so a struct never shares the message's own payload (Codec#decode).
      transport.reset(bytes);
      try {
        input.protocol().reset();
        struct.read(input.protocol());
        if (transport.getBytesRemainingInBuffer() > 0) {
          throw new CodecException(
              CodecException.MALFORMED,
              transport.getBytesRemainingInBuffer()
                  + " bytes left after the "
                  + type.getSimpleName());
        }
      } finally {
        transport.reset(NOTHING); // the thread's transport does not keep the payload alive
      }
      return type.cast(struct);
    } catch (TProtocolException e) {
      String code =
          e.getType() == TProtocolException.DEPTH_LIMIT
              ? CodecException.TOO_DEEP
              : CodecException.MALFORMED;
      throw new CodecException(
          code, "not a valid " + type.getSimpleName() + " in Thrift: " + e.getMessage(), e);
    } catch (CodecException e) {
      throw e;
    } catch (TException | ReflectiveOperationException | RuntimeException e) {
      throw new CodecException(
          CodecException.MALFORMED,
          "not a valid " + type.getSimpleName() + " in Thrift: " + e.getMessage(),
          e);
    } catch (StackOverflowError e) {
      throw new CodecException(CodecException.TOO_DEEP, "Thrift structs nest too deeply", null);
    }
  }
}
