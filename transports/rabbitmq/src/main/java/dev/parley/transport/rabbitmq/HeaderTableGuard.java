package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.WriteListener;
import com.rabbitmq.client.impl.AMQConnection;
import com.rabbitmq.client.impl.Frame;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * Keeps one message's headers table from closing a connection. RabbitMQ passes on any headers table
 * a publisher wrote; amqp-client reads at most 32 levels of nested tables and arrays, and takes a
 * deeper one — or a field type it does not know — for a malformed frame: a connection error. The
 * message stays unacknowledged, comes again after the connection's recovery, and closes it again,
 * for good (found 2026-12-06: a foreign publisher's message with headers nested 40 deep cost the
 * consuming connection every 3 s). This frame handler looks at each content header the broker sends
 * before amqp-client reads it: a headers table amqp-client would refuse is replaced by one entry,
 * {@value #UNREADABLE}, saying why, so the message arrives and is dead-lettered once as unreadable
 * ({@link RabbitMessages#delivery}) with its body and its other properties. A table amqp-client
 * reads passes untouched; a message without one (Parley's events) costs a flag test.
 *
 * <p>Works on amqp-client's blocking socket I/O (Parley's; its NIO and Netty modes read frames
 * elsewhere).
 */
final class HeaderTableGuard implements FrameHandler {

  /** The entry that replaces a headers table amqp-client would refuse. */
  static final String UNREADABLE = "parley-unreadable-headers";

  /** amqp-client's limit: a table or array nested deeper is a malformed frame. */
  static final int MAX_DEPTH = 32;

  private static final int BASIC_CLASS = 60;
  private static final int HEADERS_FLAG = 1 << 13;
  private static final int CONTENT_TYPE_FLAG = 1 << 15;
  private static final int CONTENT_ENCODING_FLAG = 1 << 14;

  private final FrameHandler delegate;

  HeaderTableGuard(FrameHandler delegate) {
    this.delegate = delegate;
  }

  /** A connection factory whose connections' frame handlers are guarded. */
  static ConnectionFactory connectionFactory() {
    return new ConnectionFactory() {
      @Override
      protected synchronized FrameHandlerFactory createFrameHandlerFactory() throws IOException {
        FrameHandlerFactory plain = super.createFrameHandlerFactory();
        return (Address address, String name) -> new HeaderTableGuard(plain.create(address, name));
      }
    };
  }

  @Override
  public Frame readFrame() throws IOException {
    Frame frame = delegate.readFrame();
    return frame == null || frame.getType() != AMQP.FRAME_HEADER ? frame : guarded(frame);
  }

  /** The content header as it came, or with its headers table replaced. */
  static Frame guarded(Frame frame) {
    byte[] p = frame.getPayload();
    // class-id, weight, body size, then the property flags (one word for the basic class)
    if (p.length < 14 || u16(p, 0) != BASIC_CLASS) {
      return frame;
    }
    int flags = u16(p, 12);
    if ((flags & HEADERS_FLAG) == 0) {
      return frame;
    }
    int at = 14;
    if ((flags & 1) != 0) {
      return frame; // a continued flag word: not the basic class's layout; amqp-client decides
    }
    if ((flags & CONTENT_TYPE_FLAG) != 0) {
      at = skipShortString(p, at);
    }
    if ((flags & CONTENT_ENCODING_FLAG) != 0) {
      at = skipShortString(p, at);
    }
    if (at < 0 || at + 4 > p.length) {
      return frame; // malformed before the table: nothing this guard can mend
    }
    long length = u32(p, at);
    String problem;
    if (at + 4 + length > p.length) {
      problem = "the headers table is longer than its frame";
    } else {
      problem = tableProblem(p, at + 4, at + 4 + (int) length, 0);
    }
    if (problem == null) {
      return frame;
    }
    byte[] reason = ("headers table not read: " + problem).getBytes(StandardCharsets.UTF_8);
    byte[] name = UNREADABLE.getBytes(StandardCharsets.US_ASCII);
    int tableLength = 1 + name.length + 1 + 4 + reason.length;
    int end = (int) Math.min(p.length, at + 4 + length);
    byte[] out = new byte[at + 4 + tableLength + (p.length - end)];
    System.arraycopy(p, 0, out, 0, at);
    int o = putU32(out, at, tableLength);
    out[o++] = (byte) name.length;
    System.arraycopy(name, 0, out, o, name.length);
    o += name.length;
    out[o++] = 'S';
    o = putU32(out, o, reason.length);
    System.arraycopy(reason, 0, out, o, reason.length);
    o += reason.length;
    System.arraycopy(p, end, out, o, p.length - end);
    return new Frame(frame.getType(), frame.getChannel(), out);
  }

  /**
   * Why amqp-client would refuse the table in {@code p[from, to)} at nesting {@code depth}, or null
   * when it reads it. The recursion ends at {@link #MAX_DEPTH}.
   */
  private static String tableProblem(byte[] p, int from, int to, int depth) {
    if (depth > MAX_DEPTH) {
      return "nested deeper than " + MAX_DEPTH + " levels";
    }
    int at = from;
    while (at < to) {
      at = skipShortString(p, at);
      if (at < 0 || at >= to) {
        return "a field name runs past its table";
      }
      long next = skipValue(p, at, to, depth + 1);
      if (next < 0) {
        return next == TOO_DEEP ? "nested deeper than " + MAX_DEPTH + " levels" : "bad field";
      }
      at = (int) next;
    }
    return null;
  }

  private static final long TOO_DEEP = -2;
  private static final long BAD = -1;

  /** The offset after the field value at {@code at} (type tag first), or BAD / TOO_DEEP. */
  private static long skipValue(byte[] p, int at, int to, int depth) {
    if (at >= to) {
      return BAD;
    }
    int type = p[at] & 0xff;
    int v = at + 1;
    long end;
    switch (type) {
      case 't', 'b', 'B' -> end = v + 1L;
      case 's', 'u' -> end = v + 2L;
      case 'I', 'i', 'f' -> end = v + 4L;
      case 'l', 'd', 'T' -> end = v + 8L;
      case 'D' -> end = v + 5L;
      case 'V' -> end = v;
      case 'S', 'x' -> end = v + 4 > to ? BAD : v + 4 + u32(p, v);
      case 'F', 'A' -> {
        if (v + 4 > to) {
          return BAD;
        }
        long inner = v + 4 + u32(p, v);
        if (inner > to) {
          return BAD;
        }
        if (depth > MAX_DEPTH) {
          return TOO_DEEP;
        }
        String problem =
            type == 'F'
                ? tableProblem(p, v + 4, (int) inner, depth)
                : arrayProblem(p, v + 4, (int) inner, depth);
        if (problem != null) {
          return problem.startsWith("nested") ? TOO_DEEP : BAD;
        }
        end = inner;
      }
      default -> {
        return BAD; // a type amqp-client does not know: it refuses the frame
      }
    }
    return end < 0 || end > to ? BAD : end;
  }

  private static String arrayProblem(byte[] p, int from, int to, int depth) {
    int at = from;
    while (at < to) {
      long next = skipValue(p, at, to, depth + 1);
      if (next < 0) {
        return next == TOO_DEEP ? "nested deeper than " + MAX_DEPTH + " levels" : "bad value";
      }
      at = (int) next;
    }
    return null;
  }

  private static int skipShortString(byte[] p, int at) {
    if (at < 0 || at >= p.length) {
      return -1;
    }
    int next = at + 1 + (p[at] & 0xff);
    return next > p.length ? -1 : next;
  }

  private static int u16(byte[] p, int at) {
    return ((p[at] & 0xff) << 8) | (p[at + 1] & 0xff);
  }

  private static long u32(byte[] p, int at) {
    return ((long) (p[at] & 0xff) << 24)
        | ((p[at + 1] & 0xff) << 16)
        | ((p[at + 2] & 0xff) << 8)
        | (p[at + 3] & 0xff);
  }

  private static int putU32(byte[] out, int at, int value) {
    out[at] = (byte) (value >>> 24);
    out[at + 1] = (byte) (value >>> 16);
    out[at + 2] = (byte) (value >>> 8);
    out[at + 3] = (byte) value;
    return at + 4;
  }

  // ---- the rest is the delegate's ---------------------------------------------------------------

  @Override
  public boolean internalHearbeat() {
    return delegate.internalHearbeat();
  }

  @Override
  public void setTimeout(int timeoutMs) throws SocketException {
    delegate.setTimeout(timeoutMs);
  }

  @Override
  public int getTimeout() throws SocketException {
    return delegate.getTimeout();
  }

  @Override
  public void sendHeader() throws IOException {
    delegate.sendHeader();
  }

  @Override
  public void initialize(AMQConnection connection) {
    delegate.initialize(connection);
  }

  @Override
  public void startProcessing() {
    delegate.startProcessing();
  }

  @Override
  public void finishConnectionNegotiation() {
    delegate.finishConnectionNegotiation();
  }

  @Override
  public void setFrameMax(int value) {
    delegate.setFrameMax(value);
  }

  @Override
  public void writeFrame(Frame frame) throws IOException {
    delegate.writeFrame(frame);
  }

  @Override
  public void flush(WriteListener listener) throws IOException {
    delegate.flush(listener);
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public InetAddress getLocalAddress() {
    return delegate.getLocalAddress();
  }

  @Override
  public int getLocalPort() {
    return delegate.getLocalPort();
  }

  @Override
  public InetAddress getAddress() {
    return delegate.getAddress();
  }

  @Override
  public int getPort() {
    return delegate.getPort();
  }
}
