package dev.parley.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Refuses an HTTP/1 request that carries both {@code Content-Length} and {@code Transfer-Encoding}
 * with 400 and closes the connection (RFC 9112 §6.1: such a message may be a smuggling attempt; a
 * server that goes on reading the connection can answer a request hidden in its body).
 *
 * <p>Netty's decoder, which Armeria uses, drops the {@code Content-Length} and goes on, and by the
 * time a request reaches a service neither header is visible. So this handler sits before the
 * HTTP/1 decoder and follows the connection's message framing on the raw bytes, without buffering
 * them: request line and header fields (a bounded line at a time), then the body by its length or
 * its chunks. It steps aside for HTTP/2 (the connection preface, or a {@code 101} upgrade) and for
 * anything it cannot follow (the decoder answers that itself).
 */
final class Http1FramingGuard extends ChannelDuplexHandler {

  private static final int MAX_LINE = 16 * 1024;
  private static final byte[] PROBLEM =
      ("{\"type\":\"https://parley.dev/errors/parley.http.ambiguous_length\","
              + "\"title\":\"INVALID_ARGUMENT\",\"status\":400,\"code\":\"INVALID_ARGUMENT\","
              + "\"errorCode\":\"parley.http.ambiguous_length\","
              + "\"detail\":\"a request with both Content-Length and Transfer-Encoding\"}")
          .getBytes(StandardCharsets.US_ASCII);

  private enum State {
    REQUEST_LINE,
    HEADER,
    BODY,
    CHUNK_SIZE,
    CHUNK_DATA,
    CHUNK_END,
    TRAILER,
    ASIDE,
    REFUSED
  }

  private State state = State.REQUEST_LINE;
  private final StringBuilder line = new StringBuilder();
  private boolean lineTooLong;
  private boolean contentLength;
  private boolean transferEncoding;
  private boolean chunked;
  private long length;
  private long remaining;
  private boolean firstBytes = true;

  /** Puts a guard on a new connection's pipeline, after TLS when there is TLS. */
  static void install(ChannelPipeline p) {
    var tls = p.context(SniHandler.class);
    if (tls == null) {
      tls = p.context(SslHandler.class);
    }
    if (tls != null) {
      p.addAfter(tls.name(), "parley-http1-framing", new Http1FramingGuard());
    } else {
      p.addFirst("parley-http1-framing", new Http1FramingGuard());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.REFUSED) {
      io.netty.util.ReferenceCountUtil.release(msg);
      return;
    }
    if (state != State.ASIDE && msg instanceof ByteBuf buf) {
      if (!follow(buf)) {
        state = State.REFUSED;
        buf.release();
        refuse(ctx);
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (state != State.ASIDE && msg instanceof ByteBuf buf && buf.readableBytes() >= 12) {
      if (buf.toString(buf.readerIndex(), 12, StandardCharsets.US_ASCII).equals("HTTP/1.1 101")) {
        state = State.ASIDE; // upgraded (h2c): HTTP/2 frames from here on
      }
    }
    super.write(ctx, msg, promise);
  }

  private void refuse(ChannelHandlerContext ctx) {
    String head =
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n"
            + "connection: close\r\ncontent-length: "
            + PROBLEM.length
            + "\r\n\r\n";
    ByteBuf response = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), PROBLEM);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  /** Follows the framing over {@code buf}; false when a request must be refused. */
  private boolean follow(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    if (firstBytes && end - i >= 4) {
      firstBytes = false;
      if (buf.toString(i, 4, StandardCharsets.US_ASCII).equals("PRI ")) {
        state = State.ASIDE; // HTTP/2 with prior knowledge
        return true;
      }
    }
    while (i < end && state != State.ASIDE) {
      switch (state) {
        case BODY, CHUNK_DATA -> {
          long n = Math.min(remaining, end - i);
          i += (int) n;
          remaining -= n;
          if (remaining == 0) {
            state = state == State.BODY ? State.REQUEST_LINE : State.CHUNK_END;
          }
        }
        default -> {
          byte b = buf.getByte(i++);
          if (b != '\n') {
            if (line.length() < MAX_LINE) {
              line.append((char) (b & 0xff));
            } else {
              lineTooLong = true;
            }
            continue;
          }
          int n = line.length();
          String text =
              n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
          line.setLength(0);
          boolean tooLong = lineTooLong;
          lineTooLong = false;
          if (tooLong) {
            state = State.ASIDE; // the decoder refuses over-long lines itself
            return true;
          }
          if (!onLine(text)) {
            return false;
          }
        }
      }
    }
    return true;
  }

  /** One complete line in a line state; false when the request must be refused. */
  private boolean onLine(String text) {
    switch (state) {
      case REQUEST_LINE -> {
        if (!text.isEmpty()) { // empty lines before a request are ignored (RFC 9112 §2.2)
          contentLength = false;
          transferEncoding = false;
          chunked = false;
          length = 0;
          state = State.HEADER;
        }
      }
      case HEADER -> {
        if (!text.isEmpty()) {
          int colon = text.indexOf(':');
          if (colon > 0) {
            String name = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = text.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            if (name.equals("content-length")) {
              contentLength = true;
              try {
                length = Long.parseLong(value);
              } catch (NumberFormatException e) {
                state = State.ASIDE; // the decoder refuses it
              }
            } else if (name.equals("transfer-encoding")) {
              transferEncoding = true;
              chunked = value.endsWith("chunked");
            }
          }
          return true;
        }
        if (contentLength && transferEncoding) {
          return false;
        }
        if (chunked) {
          state = State.CHUNK_SIZE;
        } else if (transferEncoding) {
          state = State.ASIDE; // a request body without a length: the decoder refuses it
        } else if (length > 0) {
          remaining = length;
          state = State.BODY;
        } else {
          state = State.REQUEST_LINE;
        }
      }
      case CHUNK_SIZE -> {
        int semicolon = text.indexOf(';');
        String hex = (semicolon < 0 ? text : text.substring(0, semicolon)).trim();
        try {
          remaining = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
          state = State.ASIDE;
          return true;
        }
        state = remaining == 0 ? State.TRAILER : State.CHUNK_DATA;
      }
      case CHUNK_END -> state = State.CHUNK_SIZE;
      case TRAILER -> {
        if (text.isEmpty()) {
          state = State.REQUEST_LINE;
        }
      }
      default -> {}
    }
    return true;
  }
}
