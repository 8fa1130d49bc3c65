package dev.parley.codec.thrift;

import dev.parley.codec.spi.Utf8;
import java.nio.ByteBuffer;
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

  static String utf8(ByteBuffer bytes) throws TProtocolException {
    byte[] array = bytes.array();
    int offset = bytes.arrayOffset() + bytes.position();
    int length = bytes.remaining();
    if (!Utf8.isValid(array, offset, length)) {
      throw new TProtocolException(TProtocolException.INVALID_DATA, "string is not valid UTF-8");
    }
    return new String(array, offset, length, StandardCharsets.UTF_8);
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
        throw new TProtocolException(TProtocolException.DEPTH_LIMIT, "structs nest deeper than " + max);
      }
    }

    void exit() {
      depth--;
    }
  }

  private static final class Binary extends TBinaryProtocol {
    private final Depth depth;

    Binary(TTransport transport, int maxBytes, int maxDepth) {
      super(transport, maxBytes, maxBytes, true, true);
      this.depth = new Depth(maxDepth);
    }

    @Override
    public String readString() throws org.apache.thrift.TException {
      return utf8(readBinary());
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

  private static final class Compact extends TCompactProtocol {
    private final Depth depth;

    Compact(TTransport transport, int maxBytes, int maxDepth) {
      super(transport, maxBytes, maxBytes);
      this.depth = new Depth(maxDepth);
    }

    @Override
    public String readString() throws org.apache.thrift.TException {
      return utf8(readBinary());
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
