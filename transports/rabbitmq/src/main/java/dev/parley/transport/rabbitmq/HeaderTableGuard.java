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
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps one message from closing a connection. amqp-client refuses two kinds of message RabbitMQ
 * passes on, with a connection error: a headers table nested deeper than 32 levels of tables and
 * arrays (or with a field type it does not know) — a malformed frame — and a body of its maximum
 * inbound size or more (64 MiB by default; RabbitMQ 3.10 takes up to 128 MiB). The message stays
 * unacknowledged, comes again after the connection's recovery and closes it again, for good (found
 * 2026-12-06: a foreign publisher's message with headers nested 40 deep cost the consuming
 * connection every 3 s; amqp-client's own issue 1221 for the body). This frame handler looks at
 * each content header the broker sends before amqp-client reads it:
 *
 * <ul>
 *   <li>a headers table amqp-client would refuse is replaced by one entry, {@value #UNREADABLE},
 *       saying why: the message arrives and is dead-lettered once as unreadable ({@link
 *       RabbitMessages#delivery}) with its body and its other properties;
 *   <li>a body over the transport's maximum is not read: its frames are skipped, the message
 *       arrives without a body and with one header entry, {@value #BODY_NOT_READ}, and the consumer
 *       rejects it, so that RabbitMQ moves it — whole — to its dead-letter queue.
 * </ul>
 *
 * A message amqp-client reads passes untouched; one without a headers table (Parley's events) costs
 * a few comparisons. Works on amqp-client's blocking socket I/O (Parley's; its NIO and Netty modes
 * read frames elsewhere). Not thread-safe: a connection reads its frames on one thread.
 */
final class HeaderTableGuard implements FrameHandler {

  /** The entry that replaces a headers table amqp-client would refuse. */
  static final String UNREADABLE = "parley-unreadable-headers";

  /** The entry of a message whose body was not read (too large). */
  static final String BODY_NOT_READ = "parley-body-not-read";

  /** amqp-client's limit: a table or array nested deeper is a malformed frame. */
  static final int MAX_DEPTH = 32;

  private static final int BASIC_CLASS = 60;
  private static final int HEADERS_FLAG = 1 << 13;
  private static final int CONTENT_TYPE_FLAG = 1 << 15;
  private static final int CONTENT_ENCODING_FLAG = 1 << 14;

  private final FrameHandler delegate;
  private final long maxBody;

  /** Body bytes still to skip, per channel (a channel's content frames come together). */
  private final Map<Integer, Long> skipping = new HashMap<>();

  HeaderTableGuard(FrameHandler delegate, long maxBody) {
    this.delegate = delegate;
    this.maxBody = maxBody;
  }

  /**
   * A connection factory whose connections' frame handlers are guarded, reading bodies of at most
   * {@code maxBody} bytes.
   */
  static ConnectionFactory connectionFactory(int maxBody) {
    ConnectionFactory factory =
        new ConnectionFactory() {
          @Override
          protected synchronized FrameHandlerFactory createFrameHandlerFactory()
              throws IOException {
            FrameHandlerFactory plain = super.createFrameHandlerFactory();
            return (Address address, String name) ->
                new HeaderTableGuard(plain.create(address, name), maxBody);
          }
        };
    // amqp-client refuses a body of its maximum or more (the guard lets none that large through)
    // and a frame larger than it, so it stays at least its default of 64 MiB, far above any
    // frame_max RabbitMQ negotiates
    int clientMax = Math.max(maxBody, 64 * 1024 * 1024);
    factory.setMaxInboundMessageBodySize(
        clientMax == Integer.MAX_VALUE ? clientMax : clientMax + 1);
    return factory;
  }

  @Override
  public Frame readFrame() throws IOException {
    while (true) {
      Frame frame = delegate.readFrame();
      if (frame == null) {
        return null; // a read timeout: amqp-client counts missed heartbeats
      }
      if (frame.getType() == AMQP.FRAME_BODY && !skipping.isEmpty()) {
        Long left = skipping.get(frame.getChannel());
        if (left != null) {
          long rest = left - frame.getPayload().length;
          if (rest > 0) {
            skipping.put(frame.getChannel(), rest);
          } else {
            skipping.remove(frame.getChannel());
          }
          continue; // a body not read: amqp-client never sees it
        }
      }
      if (frame.getType() != AMQP.FRAME_HEADER) {
        return frame;
      }
      Guarded guarded = guarded(frame, maxBody);
      if (guarded.skipBody() > 0) {
        skipping.put(frame.getChannel(), guarded.skipBody());
      }
      return guarded.frame();
    }
  }

  /** A content header as amqp-client gets it, and how many body bytes to skip after it. */
  record Guarded(Frame frame, long skipBody) {}

  /** The content header as it came, or mended. */
  static Guarded guarded(Frame frame, long maxBody) {
    byte[] p = frame.getPayload();
    // class-id, weight, body size, then the property flags (one word for the basic class)
    if (p.length < 14 || u16(p, 0) != BASIC_CLASS || (u16(p, 12) & 1) != 0) {
      return new Guarded(frame, 0); // not the basic class's layout: amqp-client decides
    }
    int flags = u16(p, 12);
    long bodySize = u64(p, 4);
    int at = 14;
    if ((flags & CONTENT_TYPE_FLAG) != 0) {
      at = skipShortString(p, at);
    }
    if ((flags & CONTENT_ENCODING_FLAG) != 0) {
      at = skipShortString(p, at);
    }
    if (at < 0) {
      return new Guarded(frame, 0); // malformed before the table: nothing to mend here
    }
    int tableEnd = at; // where the table ends (no table: where it would start)
    String problem = null;
    if ((flags & HEADERS_FLAG) != 0) {
      if (at + 4 > p.length) {
        return new Guarded(frame, 0);
      }
      long length = u32(p, at);
      if (at + 4 + length > p.length) {
        problem = "the headers table is longer than its frame";
        tableEnd = p.length;
      } else {
        tableEnd = at + 4 + (int) length;
        long end = skipFields(p, at + 4, tableEnd, 0, true);
        if (end == TOO_DEEP) {
          problem = "nested deeper than " + MAX_DEPTH + " levels";
        } else if (end == BAD) {
          problem = "a field amqp-client cannot read (unknown type, or past its table)";
        }
      }
    }
    if (bodySize < 0 || bodySize > maxBody) {
      String size = bodySize < 0 ? "over 2^63" : Long.toString(bodySize);
      // A readable table is kept, the entry added to it: the consumer reads a request's reply
      // address and token from it to tell the caller (QueueConsumer#bodyNotRead).
      boolean keep = problem == null && (flags & HEADERS_FLAG) != 0;
      byte[] out =
          withTable(
              p,
              flags,
              at,
              tableEnd,
              keep ? tableEnd - at - 4 : 0,
              BODY_NOT_READ,
              "a body of " + size + " bytes, more than the " + maxBody + " this connection reads");
      putU64(out, 4, 0); // amqp-client expects no body frames: the guard skips them
      return new Guarded(new Frame(frame.getType(), frame.getChannel(), out), bodySize);
    }
    if (problem == null) {
      return new Guarded(frame, 0);
    }
    return new Guarded(
        new Frame(
            frame.getType(),
            frame.getChannel(),
            withTable(p, flags, at, tableEnd, 0, UNREADABLE, "headers table not read: " + problem)),
        0);
  }

  /**
   * The payload with the headers table in {@code p[at, end)} (none when {@code end == at} and the
   * flag is clear) replaced by a table of its first {@code kept} bytes of fields (0: none; all of
   * them: the table kept) and one long-string entry.
   */
  private static byte[] withTable(
      byte[] p, int flags, int at, int end, int kept, String name, String value) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    int tableLength = kept + 1 + n.length + 1 + 4 + v.length;
    byte[] out = new byte[at + 4 + tableLength + (p.length - end)];
    System.arraycopy(p, 0, out, 0, at);
    out[12] = (byte) ((flags | HEADERS_FLAG) >>> 8);
    out[13] = (byte) (flags | HEADERS_FLAG);
    int o = putU32(out, at, tableLength);
    System.arraycopy(p, at + 4, out, o, kept);
    o += kept;
    out[o++] = (byte) n.length;
    System.arraycopy(n, 0, out, o, n.length);
    o += n.length;
    out[o++] = 'S';
    o = putU32(out, o, v.length);
    System.arraycopy(v, 0, out, o, v.length);
    o += v.length;
    System.arraycopy(p, end, out, o, p.length - end);
    return out;
  }

  private static final long TOO_DEEP = -2;
  private static final long BAD = -1;

  /**
   * Skips the fields in {@code p[from, to)} of a table ({@code named}: each value after its name)
   * or an array nested {@code depth} levels deep, as amqp-client's reader would read them: returns
   * {@code to}, or BAD (a field it refuses) or TOO_DEEP (a table or array nested deeper than {@link
   * #MAX_DEPTH}, where the recursion ends).
   */
  private static long skipFields(byte[] p, int from, int to, int depth, boolean named) {
    int at = from;
    while (at < to) {
      if (named) {
        at = skipShortString(p, at);
        if (at < 0 || at >= to) {
          return BAD; // a name running past its table, or without a value
        }
      }
      long next = skipValue(p, at, to, depth + 1);
      if (next < 0) {
        return next;
      }
      at = (int) next;
    }
    return at;
  }

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
        end = v + 4 > to ? BAD : v + 4 + u32(p, v);
        if (end < 0 || end > to) {
          return BAD;
        }
        if (depth > MAX_DEPTH) {
          return TOO_DEEP;
        }
        long inner = skipFields(p, v + 4, (int) end, depth, type == 'F');
        if (inner < 0) {
          return inner;
        }
      }
      default -> {
        return BAD; // a type amqp-client does not know: it refuses the frame
      }
    }
    return end < 0 || end > to ? BAD : end;
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

  private static long u64(byte[] p, int at) {
    return (u32(p, at) << 32) | u32(p, at + 4);
  }

  private static void putU64(byte[] out, int at, long value) {
    putU32(out, at, (int) (value >>> 32));
    putU32(out, at + 4, (int) value);
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
