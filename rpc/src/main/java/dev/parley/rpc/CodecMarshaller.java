package dev.parley.rpc;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller that is a Parley {@link Codec}: {@code codec} writes and reads {@code
 * application/grpc} messages (Protobuf: generated messages with their own codec, records with the
 * derived descriptors), {@code json} the {@code application/grpc+json} ones ({@link
 * CodecJsonMarshaller}).
 */
class CodecMarshaller<T> implements MethodDescriptor.Marshaller<T> {

  final Codec codec;
  final Codec json;
  final Class<T> type;

  CodecMarshaller(Codec codec, Codec json, Class<T> type) {
    this.codec = codec;
    this.json = json;
    this.type = type;
  }

  /** Reads a {@code application/grpc+json} message. */
  Object parseJson(InputStream stream) {
    return json.decode(readAll(stream), type);
  }

  @Override
  public InputStream stream(T value) {
    return new ByteArrayInputStream(codec.encode(value));
  }

  @Override
  public T parse(InputStream stream) {
    return codec.decode(readAll(stream), type);
  }

  static byte[] readAll(InputStream stream) {
    try (stream) {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The server side's request marshaller: never throws, so a malformed request reaches the
   * handler's wrapper as a {@link Malformed} and is answered {@code INVALID_ARGUMENT} with the
   * codec's error code, like over REST.
   */
  static final class Lenient<T> implements MethodDescriptor.Marshaller<Object> {
    final CodecMarshaller<T> delegate;

    Lenient(CodecMarshaller<T> delegate) {
      this.delegate = delegate;
    }

    @Override
    public InputStream stream(Object value) {
      return delegate.stream(delegate.type.cast(value));
    }

    @Override
    public Object parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (CodecException e) {
        return new Malformed(e);
      }
    }

    /** Reads a {@code application/grpc+json} message, never throwing like {@link #parse}. */
    Object parseJson(InputStream stream) {
      try {
        return delegate.parseJson(stream);
      } catch (CodecException e) {
        return new Malformed(e);
      }
    }
  }

  /** A request that did not decode. */
  record Malformed(CodecException error) {}
}
