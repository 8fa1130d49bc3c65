package dev.parley.codec.thrift;

import dev.parley.codec.spi.Utf8;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.transport.TTransport;

/**
 * Reading protocols that refuse what libthrift accepts silently: strings that are not valid UTF-8
 * (libthrift replaces bad sequences) and structs nested deeper than a limit; and whose binary
 * fields are copies, never views into the payload read.
 */
final class StrictReads {

  private StrictReads() {}

  static TProtocol binary(TTransport transport, int maxBytes, int maxDepth) {
    return new Binary(transport, maxBytes, maxDepth);
  }

  static TProtocol compact(TTransport transport, int maxBytes, int maxDepth) {
    return new Compact(transport, maxBytes, maxDepth);
  }

  private static final char REPLACEMENT = '\uFFFD';

  /**
   * Reads a string body of {@code length} bytes straight from the transport's buffer (all of a
   * payload is in memory), refusing one that is not valid UTF-8: one copy, like libthrift's own
   * fast path, and no second pass over a valid string's bytes.
   */
  static String readUtf8(TTransport transport, int length, int maxBytes)
      throws org.apache.thrift.TException {
    if (length == 0) {
      return "";
    }
    requireInBuffer(transport, length, maxBytes, "string");
    byte[] buffer = transport.getBuffer();
    int offset = transport.getBufferPosition();
    String value = new String(buffer, offset, length, StandardCharsets.UTF_8);
    // The JDK's decoder replaces every malformed sequence with U+FFFD, so a string without one
    // was valid UTF-8; one with it is checked strictly (U+FFFD may also have been sent as such).
    // For a Latin-1 string indexOf returns at once: no second pass over the bytes.
    if (value.indexOf(REPLACEMENT) >= 0 && !Utf8.isValid(buffer, offset, length)) {
      throw new TProtocolException(TProtocolException.INVALID_DATA, "string is not valid UTF-8");
    }
    transport.consumeBuffer(length);
    return value;
  }

  /**
   * Reads a binary body of {@code length} bytes from the transport's buffer into an array of its
   * own. libthrift's {@code readBinary} wraps the buffer it reads — the message's payload — so a
   * struct would share (and keep alive) the payload; a copy of the field alone keeps the decoded
   * struct apart from it without copying the whole payload first.
   */
  static ByteBuffer readBinaryCopy(TTransport transport, int length, int maxBytes)
      throws org.apache.thrift.TException {
    requireInBuffer(transport, length, maxBytes, "binary");
    int offset = transport.getBufferPosition();
    byte[] copy = Arrays.copyOfRange(transport.getBuffer(), offset, offset + length);
    transport.consumeBuffer(length);
    return ByteBuffer.wrap(copy);
  }

  /**
   * Refuses a {@code what} (string, binary) whose declared length is negative, over {@code
   * maxBytes}, or longer than what is left of the payload.
   */
  private static void requireInBuffer(TTransport transport, int length, int maxBytes, String what)
      throws TProtocolException {
    if (length < 0 || length > maxBytes) {
      throw new TProtocolException(
          TProtocolException.SIZE_LIMIT, what + " length " + length + " is out of bounds");
    }
    if (transport.getBytesRemainingInBuffer() < length) {
      throw new TProtocolException(
          TProtocolException.INVALID_DATA, what + " of " + length + " bytes runs past the payload");
    }
  }

  /** Counts struct nesting for one read. */
  static final class Depth {
    private final int max;
    private int depth;

    Depth(int max) {
      this.max = max;
    }

    void enter() throws TProtocolException {
      if (++depth > max) {
        throw new TProtocolException(
            TProtocolException.DEPTH_LIMIT, "structs nest deeper than " + max);
      }
    }

    void exit() {
      depth--;
    }

    void reset() {
      depth = 0;
    }
  }

  private static final class Binary extends TBinaryProtocol {
    private final Depth depth;

    private final int maxBytes;

    Binary(TTransport transport, int maxBytes, int maxDepth) {
      super(transport, maxBytes, maxBytes, true, true);
      this.depth = new Depth(maxDepth);
      this.maxBytes = maxBytes;
    }

    @Override
    public String readString() throws org.apache.thrift.TException {
      return readUtf8(getTransport(), readI32(), maxBytes);
    }

    @Override
    public ByteBuffer readBinary() throws org.apache.thrift.TException {
      return readBinaryCopy(getTransport(), readI32(), maxBytes);
    }

    @Override
    public TStruct readStructBegin() throws org.apache.thrift.TException {
      depth.enter();
      return super.readStructBegin();
    }

    @Override
    public void reset() {
      super.reset();
      depth.reset();
    }

    @Override
    public void readStructEnd() throws org.apache.thrift.TException {
      depth.exit();
      super.readStructEnd();
    }
  }

  private static final class Compact extends TCompactProtocol {
    private final Depth depth;

    private final int maxBytes;

    Compact(TTransport transport, int maxBytes, int maxDepth) {
      super(transport, maxBytes, maxBytes);
      this.depth = new Depth(maxDepth);
      this.maxBytes = maxBytes;
    }

    @Override
    public String readString() throws org.apache.thrift.TException {
      return readUtf8(getTransport(), readVarint32(), maxBytes);
    }

    @Override
    public ByteBuffer readBinary() throws org.apache.thrift.TException {
      return readBinaryCopy(getTransport(), readVarint32(), maxBytes);
    }

    /**
     * The compact protocol's unsigned varint length prefix (libthrift keeps its reader private).
     */
    private int readVarint32() throws org.apache.thrift.TException {
      int result = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        byte b = readByte();
        result |= (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return result;
        }
      }
      throw new TProtocolException(
          TProtocolException.INVALID_DATA, "varint length longer than 5 bytes");
    }

    @Override
    public void reset() {
      super.reset();
      depth.reset();
    }

    @Override
    public TStruct readStructBegin() throws org.apache.thrift.TException {
      depth.enter();
      return super.readStructBegin();
    }

    @Override
    public void readStructEnd() throws org.apache.thrift.TException {
      depth.exit();
      super.readStructEnd();
    }
  }
}
