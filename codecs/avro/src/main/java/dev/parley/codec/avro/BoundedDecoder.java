package dev.parley.codec.avro;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Avro binary decoding that never trusts a declared length: strings, bytes and block counts larger
 * than the bytes left are refused before anything is allocated, and strings must be valid UTF-8
 * (Avro's own decoder replaces bad sequences silently).
 */
final class BoundedDecoder extends Decoder {

  /** A length or encoding the payload cannot honour. */
  static final class Malformed extends IOException {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message);
    }
  }

  private BinaryDecoder delegate;
  private byte[] scratch = new byte[256];

  /** Points this decoder at a new payload; one decoder per thread is reused this way. */
  BoundedDecoder reset(byte[] bytes, int offset) {
    delegate = DecoderFactory.get().binaryDecoder(bytes, offset, bytes.length - offset, delegate);
    return this;
  }

  /** Bytes not yet read (exact: the decoder reads from the payload array). */
  int remaining() {
    return delegate.remainingBytes();
  }

  private int length(long declared, String what) throws Malformed {
    if (declared < 0 || declared > remaining()) {
      throw new Malformed(
          what + " length " + declared + " exceeds the " + remaining() + " bytes left");
    }
    return (int) declared;
  }

  private long count(long declared, String what) throws Malformed {
    if (declared < 0 || declared > remaining() + 1L) {
      throw new Malformed(
          what + " of " + declared + " items exceeds the " + remaining() + " bytes left");
    }
    return declared;
  }

  private byte[] bytes(String what) throws IOException {
    byte[] b = new byte[length(delegate.readLong(), what)];
    delegate.readFixed(b, 0, b.length);
    return b;
  }

  private static void requireUtf8(byte[] b, int length) throws Malformed {
    if (!dev.parley.codec.spi.Utf8.isValid(b, 0, length)) {
      throw new Malformed("string is not valid UTF-8");
    }
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = length(delegate.readLong(), "string");
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    delegate.readFixed(result.getBytes(), 0, length);
    requireUtf8(result.getBytes(), length);
    return result;
  }

  @Override
  public String readString() throws IOException {
    int length = length(delegate.readLong(), "string");
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
    }
    delegate.readFixed(scratch, 0, length);
    requireUtf8(scratch, length);
    return new String(scratch, 0, length, StandardCharsets.UTF_8);
  }

  @Override
  public void skipString() throws IOException {
    delegate.skipFixed(length(delegate.readLong(), "string"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    return ByteBuffer.wrap(bytes("bytes"));
  }

  @Override
  public void skipBytes() throws IOException {
    delegate.skipFixed(length(delegate.readLong(), "bytes"));
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    delegate.readFixed(bytes, start, length(length, "fixed"));
  }

  @Override
  public void skipFixed(int length) throws IOException {
    delegate.skipFixed(length(length, "fixed"));
  }

  @Override
  public long readArrayStart() throws IOException {
    return count(delegate.readArrayStart(), "array block");
  }

  @Override
  public long arrayNext() throws IOException {
    return count(delegate.arrayNext(), "array block");
  }

  @Override
  public long skipArray() throws IOException {
    return count(delegate.skipArray(), "array block");
  }

  @Override
  public long readMapStart() throws IOException {
    return count(delegate.readMapStart(), "map block");
  }

  @Override
  public long mapNext() throws IOException {
    return count(delegate.mapNext(), "map block");
  }

  @Override
  public long skipMap() throws IOException {
    return count(delegate.skipMap(), "map block");
  }

  @Override
  public void readNull() throws IOException {
    delegate.readNull();
  }

  @Override
  public boolean readBoolean() throws IOException {
    return delegate.readBoolean();
  }

  @Override
  public int readInt() throws IOException {
    return delegate.readInt();
  }

  @Override
  public long readLong() throws IOException {
    return delegate.readLong();
  }

  @Override
  public float readFloat() throws IOException {
    return delegate.readFloat();
  }

  @Override
  public double readDouble() throws IOException {
    return delegate.readDouble();
  }

  @Override
  public int readEnum() throws IOException {
    return delegate.readEnum();
  }

  @Override
  public int readIndex() throws IOException {
    return delegate.readIndex();
  }
}
