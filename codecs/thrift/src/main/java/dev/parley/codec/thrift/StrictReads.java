package dev.parley.codec.thrift;

import dev.parley.codec.spi.Utf8;
import java.nio.charset.StandardCharsets;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.transport.TTransport;

/**
 * Reading protocols that refuse what libthrift accepts silently: strings that are not valid UTF-8
 * (libthrift replaces bad sequences) and structs nested deeper than a limit.
 */
final class StrictReads {

  private StrictReads() {}

  static TProtocol binary(TTransport transport, int maxBytes, int maxDepth) {
    return new Binary(transport, maxBytes, maxDepth);
  }

  static TProtocol compact(TTransport transport, int maxBytes, int maxDepth) {
    return new Compact(transport, maxBytes, maxDepth);
  }

  /**
   * Reads a string body of {@code length} bytes straight from the transport's buffer (all of a
   * payload is in memory), validating UTF-8 in place: one copy, like libthrift's own fast path.
   */
  static String readUtf8(TTransport transport, int length, int maxBytes)
      throws org.apache.thrift.TException {
    if (length < 0 || length > maxBytes) {
      throw new TProtocolException(
          TProtocolException.SIZE_LIMIT, "string length " + length + " is out of bounds");
    }
    if (length == 0) {
      return "";
    }
    if (transport.getBytesRemainingInBuffer() < length) {
      throw new TProtocolException(
          TProtocolException.INVALID_DATA, "string of " + length + " bytes runs past the payload");
    }
    byte[] buffer = transport.getBuffer();
    int offset = transport.getBufferPosition();
    if (!Utf8.isValid(buffer, offset, length)) {
      throw new TProtocolException(TProtocolException.INVALID_DATA, "string is not valid UTF-8");
    }
    String value = new String(buffer, offset, length, StandardCharsets.UTF_8);
    transport.consumeBuffer(length);
    return value;
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
