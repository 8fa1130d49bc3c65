package dev.parley.codec;

/**
 * Converts typed values to bytes and back for one content type. Codecs are chosen by content type:
 * encoding uses the configured codec and stamps its {@link #contentType()}, decoding picks the
 * codec named by the message's {@code content-type} header (see {@link Codecs}).
 *
 * <p>Implementations are thread-safe and safe against hostile input: they fail with {@link
 * CodecException} (never a raw parser exception, a stack overflow or an out-of-memory error).
 */
public interface Codec {

  /**
   * The MIME type this codec reads and writes, without parameters, e.g. {@code application/json}.
   */
  String contentType();

  /**
   * Whether this codec reads and writes values of {@code type}. Several codecs may share a content
   * type (Jackson JSON for plain classes, the protobuf JSON mapping for protobuf messages); {@link
   * Codecs} picks the one that supports the payload type.
   */
  default boolean supports(Class<?> type) {
    return true;
  }

  /**
   * Encodes a value into a new array that the caller owns: Parley hands it to the message as it is,
   * so the codec keeps no reference to it.
   *
   * @throws CodecException if the value cannot be written in this format
   */
  byte[] encode(Object value);

  /**
   * Decodes bytes into a value of {@code type}. {@code bytes} is the message's own payload, not a
   * copy: read it, never write to it, and keep no reference to it in the value (copy what the value
   * keeps).
   *
   * @throws CodecException if the bytes are malformed, too large or too deep, or do not fit {@code
   *     type}
   */
  <T> T decode(byte[] bytes, Class<T> type);
}
