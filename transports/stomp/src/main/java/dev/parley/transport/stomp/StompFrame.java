package dev.parley.transport.stomp;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One STOMP 1.2 frame: a command, headers (the first of repeated headers wins, as the specification
 * says) and a body. {@code unreadable} says why a received MESSAGE's headers could not all be kept
 * (then it is dead-lettered, not handled), and is null otherwise. {@code bodyNotRead} is the size
 * of a received MESSAGE's body the reader skipped, larger than it reads (then the body is empty),
 * and 0 otherwise; {@code copied}, for such a body, is the broker's answer to the copy of the
 * message the reader wrote on its way past it (StompFrameReader.BodyCopier), null when none was
 * made.
 */
record StompFrame(
    String command,
    Map<String, String> headers,
    byte[] body,
    String unreadable,
    long bodyNotRead,
    CompletableFuture<Void> copied) {

  /** {@code headers} is handed over: the caller does not change the map afterwards. */
  StompFrame {
    Objects.requireNonNull(command, "command");
    headers = Collections.unmodifiableMap(headers);
    body = body == null ? new byte[0] : body;
  }

  /** A frame whose body was skipped, or read. */
  StompFrame(
      String command,
      Map<String, String> headers,
      byte[] body,
      String unreadable,
      long bodyNotRead) {
    this(command, headers, body, unreadable, bodyNotRead, null);
  }

  /** A frame read with its body. */
  StompFrame(String command, Map<String, String> headers, byte[] body, String unreadable) {
    this(command, headers, body, unreadable, 0);
  }

  /** A frame read whole. */
  StompFrame(String command, Map<String, String> headers, byte[] body) {
    this(command, headers, body, null);
  }

  static StompFrame of(String command, Map<String, String> headers) {
    return new StompFrame(command, headers, new byte[0]);
  }

  String header(String name) {
    return headers.get(name);
  }

  /**
   * The frame's bytes. Header names and values are escaped as STOMP 1.2 requires (not in CONNECT
   * and CONNECTED frames, whose values the specification leaves unescaped); a body always gets a
   * {@code content-length}, so it may hold NUL bytes.
   */
  byte[] encode() {
    return encode(command, headers, null, body);
  }

  /**
   * The bytes of a frame made of these parts, in one array: {@code receipt}, when not null, is
   * written as the frame's {@code receipt} header in place of any in {@code headers}, so a sender
   * adds a receipt without copying its header map.
   */
  static byte[] encode(String command, Map<String, String> headers, String receipt, byte[] body) {
    boolean length = body.length > 0 || command.equals("SEND") || command.equals("MESSAGE");
    return head(command, headers, receipt, length ? body.length : -1).frame(body);
  }

  /**
   * The head of a frame whose body of {@code contentLength} bytes is written after it (then its
   * NUL): the command, the headers, the {@code receipt} and the {@code content-length}, and the
   * blank line that ends them.
   */
  static byte[] encodeHead(
      String command, Map<String, String> headers, String receipt, long contentLength) {
    return head(command, headers, receipt, contentLength).bytes();
  }

  /** {@code contentLength} -1: no {@code content-length} header. */
  private static Encoder head(
      String command, Map<String, String> headers, String receipt, long contentLength) {
    boolean escape = !command.equals("CONNECT") && !command.equals("CONNECTED");
    Encoder out = new Encoder(64 + headers.size() * 48);
    out.text(command, false);
    out.put('\n');
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      if (name.equals("content-length") || (receipt != null && name.equals("receipt"))) {
        continue;
      }
      out.text(name, escape);
      out.put(':');
      out.text(h.getValue(), escape);
      out.put('\n');
    }
    if (receipt != null) {
      out.text("receipt:", false);
      out.text(receipt, false);
      out.put('\n');
    }
    if (contentLength >= 0) {
      out.text("content-length:", false);
      out.text(Long.toString(contentLength), false);
      out.put('\n');
    }
    out.put('\n');
    return out;
  }

  /**
   * A frame's head written as bytes into one array, then the frame: a name or value that is ASCII
   * with nothing to escape (nearly all of them) is checked in one loop and block-copied; any other
   * is escaped and encoded through a StringBuilder. The old encoder put every header through a
   * StringBuilder, its String and that String's bytes (a JFR profile of STOMP request/reply,
   * 2026-12-05, had it first among the transport's own methods).
   */
  private static final class Encoder {
    private byte[] bytes;
    private int size;

    Encoder(int capacity) {
      bytes = new byte[capacity];
    }

    void put(char ascii) {
      room(1);
      bytes[size++] = (byte) ascii;
    }

    /**
     * {@code text}, escaped as STOMP 1.2 requires when {@code escape}; without it (CONNECT and
     * CONNECTED, whose values the specification leaves as they are) a line break is refused.
     */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exact for ASCII
    void text(String text, boolean escape) {
      int n = text.length();
      if (!plain(text, n)) {
        escapedUtf8(text, escape);
        return;
      }
      room(n);
      text.getBytes(0, n, bytes, size); // a block copy of the string's bytes
      size += n;
    }

    /** ASCII with nothing to escape or refuse: nearly every name and value. */
    private static boolean plain(String text, int n) {
      for (int i = 0; i < n; i++) {
        char c = text.charAt(i);
        if (c >= 0x80 || c == '\\' || (c <= ':' && (c == ':' || c == '\n' || c == '\r'))) {
          return false;
        }
      }
      return true;
    }

    /** The rare name or value with a character to escape or beyond ASCII. */
    private void escapedUtf8(String text, boolean escape) {
      StringBuilder out = new StringBuilder(text.length() + 8);
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        switch (c) {
          case '\\' -> out.append(escape ? "\\\\" : "\\");
          case '\n', '\r' -> {
            if (!escape) {
              throw new IllegalArgumentException("line break in an unescaped STOMP header");
            }
            out.append(c == '\n' ? "\\n" : "\\r");
          }
          case ':' -> out.append(escape ? "\\c" : ":");
          default -> out.append(c);
        }
      }
      byte[] utf8 = out.toString().getBytes(StandardCharsets.UTF_8);
      room(utf8.length);
      System.arraycopy(utf8, 0, bytes, size, utf8.length);
      size += utf8.length;
    }

    private void room(int more) {
      if (size + more > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }

    /** What was written. */
    byte[] bytes() {
      return java.util.Arrays.copyOf(bytes, size);
    }

    /** The frame: what was written, the body and the NUL that ends it. */
    byte[] frame(byte[] body) {
      byte[] frame = new byte[size + body.length + 1];
      System.arraycopy(bytes, 0, frame, 0, size);
      System.arraycopy(body, 0, frame, size, body.length);
      return frame;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StompFrame f
        && command.equals(f.command)
        && headers.equals(f.headers)
        && java.util.Arrays.equals(body, f.body);
  }

  @Override
  public int hashCode() {
    return Objects.hash(command, headers, java.util.Arrays.hashCode(body));
  }

  @Override
  public String toString() {
    return command + headers + " (" + body.length + " bytes)";
  }
}
