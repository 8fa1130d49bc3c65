package dev.parley.transport.stomp;

import dev.parley.message.Headers;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Reads STOMP 1.2 frames from a stream, within limits, so a hostile or broken peer can cost no more
 * than {@code maxFrameBytes} of memory: every violation is a {@link StompProtocolException}.
 * Heart-beats (bare end-of-lines between frames) are skipped and reported through {@link
 * #lastActivityNanos()}.
 */
final class StompFrameReader {

  static final int MAX_HEADERS = 128;
  static final int MAX_LINE_BYTES = 64 * 1024;

  /** Headers of a MESSAGE kept past {@link #MAX_HEADERS}: the ones needed to settle it. */
  private static final java.util.Set<String> ALWAYS_KEPT =
      java.util.Set.of(
          "subscription", "message-id", "ack", "destination", "content-length", "redelivered");

  /** A header line read to its end and left out: too long, or not UTF-8. */
  private static final class SkippedLine extends StompProtocolException {
    private static final long serialVersionUID = 1L;
    final long bytes;

    SkippedLine(String why, long bytes) {
      super(why);
      this.bytes = bytes;
    }
  }

  /**
   * Where a MESSAGE too large to keep may be copied on the reader's way past its body, instead of
   * being skipped: so that it is dead-lettered whole rather than left at the broker (see
   * StompConsumer). Called on the reader thread with the frame's headers and its body's size.
   */
  interface BodyCopier {
    /**
     * Starts a copy of the message and writes its body by calling {@code body} once, or returns
     * null to have the body skipped. Returns the broker's answer to the copy; when {@code body}
     * failed, the copy failed with it.
     */
    CompletableFuture<Void> copy(Map<String, String> headers, long length, Body body);
  }

  /** The body of a MESSAGE being read, written to a copy as it is read. */
  interface Body {
    void writeTo(OutputStream out) throws IOException;
  }

  private volatile BodyCopier copier;

  private final InputStream in;
  private final int maxFrameBytes;
  private final byte[] buffer = new byte[8192];
  private byte[] line = new byte[256];

  /** The last line read: in {@link #buffer} or {@link #line}, from this index. */
  private byte[] lineBytes;

  private int lineStart;
  private int position;
  private int limit;
  private volatile long lastActivity = System.nanoTime();

  StompFrameReader(InputStream in, int maxFrameBytes) {
    this.in = in;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Copies MESSAGEs too large to keep from now on (see {@link BodyCopier}). */
  void copyLargeMessagesTo(BodyCopier copier) {
    this.copier = copier;
  }

  /** When the peer last sent anything, a frame or a heart-beat. */
  long lastActivityNanos() {
    return lastActivity;
  }

  /**
   * The next frame.
   *
   * @throws EOFException when the stream ends between frames
   * @throws StompProtocolException when the bytes are not a frame
   */
  StompFrame read() throws IOException {
    String command;
    int frameBytes = 0;
    while (true) {
      String line = readLine(true);
      frameBytes += line.length() + 1;
      if (!line.isEmpty()) {
        command = line;
        break;
      }
      // a heart-beat
    }
    if (!isCommand(command)) {
      throw new StompProtocolException("unknown STOMP command: " + printable(command));
    }
    boolean unescape = !command.equals("CONNECT") && !command.equals("CONNECTED");
    // A MESSAGE carries what some other client sent. A header this reader will not keep (one too
    // many, too long, not UTF-8, badly escaped) makes the message unreadable, not the connection:
    // the frame is still read to its end, acknowledged and dead-lettered by the consumer.
    boolean message = command.equals("MESSAGE");
    Map<String, String> headers = new LinkedHashMap<>(32);
    String unreadable = null;
    int count = 0;
    while (true) {
      int n;
      try {
        n = readLineBytes(false, message);
      } catch (SkippedLine e) {
        frameBytes += e.bytes;
        if (frameBytes > maxFrameBytes) {
          throw new StompProtocolException("frame headers exceed " + maxFrameBytes + " bytes");
        }
        unreadable = unreadable != null ? unreadable : e.getMessage();
        continue;
      }
      frameBytes += n + 1;
      if (frameBytes > maxFrameBytes) {
        throw new StompProtocolException("frame headers exceed " + maxFrameBytes + " bytes");
      }
      if (n == 0) {
        break;
      }
      try {
        int colon = colon(lineBytes, lineStart, n);
        if (colon <= 0) {
          throw new StompProtocolException(
              "header without a name or ':': " + printable(utf8(lineBytes, lineStart, n)));
        }
        String name = name(lineBytes, lineStart, colon, unescape);
        String value = utf8(lineBytes, lineStart + colon + 1, n - colon - 1);
        if (unescape) {
          value = unescape(value);
        }
        if (++count > MAX_HEADERS && !(message && ALWAYS_KEPT.contains(name))) {
          throw new StompProtocolException("more than " + MAX_HEADERS + " headers");
        }
        headers.putIfAbsent(name, value);
      } catch (StompProtocolException e) {
        if (!message) {
          throw e;
        }
        unreadable = unreadable != null ? unreadable : e.getMessage();
      }
    }
    byte[] body;
    String length = headers.get("content-length");
    if (length != null) {
      int n;
      try {
        n = Integer.parseInt(length.trim());
      } catch (NumberFormatException e) {
        throw new StompProtocolException("bad content-length: " + printable(length));
      }
      if (n < 0) {
        throw new StompProtocolException("bad content-length: " + printable(length));
      }
      if (n > maxFrameBytes - frameBytes) {
        if (!message) {
          throw new StompProtocolException(
              "content-length " + n + " exceeds the frame limit of " + maxFrameBytes + " bytes");
        }
        // A MESSAGE larger than this reader keeps: copied on the way past it, or skipped; never
        // read into memory, so that one message never closes the connection (the consumer decides
        // what becomes of it, StompConsumer).
        CompletableFuture<Void> copied = copyOrSkip(headers, n);
        if (readByte() != 0) {
          throw new StompProtocolException("frame body not followed by NUL");
        }
        return new StompFrame(command, headers, null, unreadable, n, copied);
      }
      body = readExactly(n);
      if (readByte() != 0) {
        throw new StompProtocolException("frame body not followed by NUL");
      }
    } else {
      body = readUntilNul(maxFrameBytes - frameBytes, message);
      if (body == null) {
        return new StompFrame(command, headers, null, unreadable, skippedToNul);
      }
    }
    return new StompFrame(command, headers, body, unreadable);
  }

  private static boolean isCommand(String c) {
    return switch (c) {
      case "CONNECTED",
          "MESSAGE",
          "RECEIPT",
          "ERROR",
          "CONNECT",
          "STOMP",
          "SEND",
          "SUBSCRIBE",
          "UNSUBSCRIBE",
          "ACK",
          "NACK",
          "BEGIN",
          "COMMIT",
          "ABORT",
          "DISCONNECT" ->
          true;
      default -> false;
    };
  }

  private String readLine(boolean betweenFrames) throws IOException {
    int n = readLineBytes(betweenFrames, false);
    return utf8(lineBytes, lineStart, n);
  }

  /**
   * One line, left in {@link #lineBytes} from {@link #lineStart} (valid until the next read): its
   * length, without the {@code \n} and a {@code \r} before it. With {@code skipLong}, a line longer
   * than {@link #MAX_LINE_BYTES} or with a NUL byte in it is read to its end and reported as {@link
   * SkippedLine} (the frame stays in step); otherwise it is fatal.
   */
  private int readLineBytes(boolean betweenFrames, boolean skipLong) throws IOException {
    // The common case: the whole line is already in the buffer.
    for (int i = position; i < limit && i - position <= MAX_LINE_BYTES; i++) {
      byte b = buffer[i];
      if (b == '\n') {
        int start = position;
        position = i + 1;
        return lineAt(buffer, start, i - start);
      }
      if (b == 0) {
        break; // the byte-by-byte reading below reports it
      }
    }
    byte[] line = this.line;
    int n = 0;
    while (true) {
      int b = betweenFrames && n == 0 ? readByteOrEof() : readByte();
      if (b == '\n') {
        return lineAt(line, 0, n);
      }
      if (b == 0) {
        if (!skipLong) {
          throw new StompProtocolException("NUL inside a frame's command or headers");
        }
        // RabbitMQ's plugin writes a NUL byte of an AMQP 0-9-1 header (name or value) as it is,
        // where STOMP cannot escape it: that line is not kept, the frame stays in step.
        throw skipRestOfLine(n, "a NUL byte inside a header line");
      }
      if (n == MAX_LINE_BYTES) {
        if (!skipLong) {
          throw new StompProtocolException("header line longer than " + MAX_LINE_BYTES + " bytes");
        }
        throw skipRestOfLine(n, "header line longer than " + MAX_LINE_BYTES + " bytes");
      }
      if (n == line.length) {
        line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE_BYTES, n * 2));
        this.line = line;
      }
      line[n++] = (byte) b;
    }
  }

  /**
   * Reads the rest of a line not kept, of which {@code n} bytes and the one that ended its keeping
   * were read, and tells how many bytes it had; over {@code maxFrameBytes} the frame is broken.
   */
  private SkippedLine skipRestOfLine(int n, String why) throws IOException {
    long skipped = n + 1;
    for (int c = readByte(); c != '\n'; c = readByte()) {
      if (++skipped > maxFrameBytes) {
        throw new StompProtocolException("frame headers exceed " + maxFrameBytes + " bytes");
      }
    }
    return new SkippedLine(why, skipped + 1);
  }

  private int lineAt(byte[] bytes, int start, int n) {
    lineBytes = bytes;
    lineStart = start;
    return n > 0 && bytes[start + n - 1] == '\r' ? n - 1 : n;
  }

  /** Where the first ':' of the line is, or -1 (UTF-8 never has the byte inside a character). */
  private static int colon(byte[] bytes, int start, int n) {
    for (int i = 0; i < n; i++) {
      if (bytes[start + i] == ':') {
        return i;
      }
    }
    return -1;
  }

  /**
   * A header's name: one of the names STOMP, RabbitMQ's plugin and Parley's wire contract use as
   * its constant (no new String per message, and a hash computed once, not per message), else
   * decoded.
   */
  private static String name(byte[] bytes, int start, int n, boolean unescape)
      throws StompProtocolException {
    String[] candidates = n < KNOWN.length ? KNOWN[n] : null;
    if (candidates != null) {
      for (String known : candidates) {
        if (sameAscii(known, bytes, start)) {
          return known;
        }
      }
    }
    String name = utf8(bytes, start, n);
    return unescape ? unescape(name) : name;
  }

  private static boolean sameAscii(String known, byte[] bytes, int start) {
    for (int i = 0; i < known.length(); i++) {
      if (bytes[start + i] != known.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Known header names by their length (none has a character to unescape). */
  private static final String[][] KNOWN = known();

  private static String[][] known() {
    java.util.List<String> names =
        java.util.List.of(
            "destination",
            "subscription",
            "message-id",
            "ack",
            "content-type",
            "content-length",
            "receipt",
            "receipt-id",
            "redelivered",
            "persistent",
            "priority",
            "expires",
            "timestamp",
            "correlation-id",
            "reply-to",
            "type",
            Dialect.RabbitMq.APP_ID,
            Dialect.RabbitMq.MESSAGE_ID,
            "message",
            "version",
            "heart-beat",
            "server",
            "session",
            "x-queue-name",
            Headers.ID,
            Headers.TYPE,
            Headers.SOURCE,
            Headers.CHANNEL,
            Headers.CORRELATION_ID,
            Headers.CAUSATION_ID,
            Headers.REPLY_TO,
            Headers.REPLY_TOKEN,
            Headers.DEADLINE,
            Headers.PARTITION_KEY,
            Headers.ATTEMPT,
            Headers.STATUS,
            Headers.ERROR_CODE,
            Headers.ERROR_MESSAGE);
    int longest = names.stream().mapToInt(String::length).max().orElse(0);
    java.util.List<java.util.List<String>> byLength = new java.util.ArrayList<>();
    for (int i = 0; i <= longest; i++) {
      byLength.add(new java.util.ArrayList<>());
    }
    names.forEach(name -> byLength.get(name.length()).add(name));
    String[][] table = new String[longest + 1][];
    for (int i = 0; i <= longest; i++) {
      table[i] = byLength.get(i).isEmpty() ? null : byLength.get(i).toArray(new String[0]);
    }
    return table;
  }

  private static String utf8(byte[] bytes, int offset, int n) throws StompProtocolException {
    boolean ascii = true;
    for (int i = offset; i < offset + n && ascii; i++) {
      ascii = bytes[i] >= 0;
    }
    if (ascii) {
      return new String(bytes, offset, n, StandardCharsets.ISO_8859_1); // the common case, cheaply
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes, offset, n))
          .toString();
    } catch (CharacterCodingException e) {
      throw new StompProtocolException("header line is not UTF-8");
    }
  }

  /** STOMP 1.2 header unescaping; any other escape is a fatal protocol error. */
  static String unescape(String s) throws StompProtocolException {
    int slash = s.indexOf('\\');
    if (slash < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    out.append(s, 0, slash);
    for (int i = slash; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (++i == s.length()) {
        throw new StompProtocolException("header ends in a lone backslash");
      }
      switch (s.charAt(i)) {
        case '\\' -> out.append('\\');
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 'c' -> out.append(':');
        default -> throw new StompProtocolException("undefined header escape \\" + s.charAt(i));
      }
    }
    return out.toString();
  }

  private byte[] readExactly(int n) throws IOException {
    byte[] out = new byte[n];
    int done = 0;
    while (done < n) {
      if (position == limit) {
        fill();
      }
      int take = Math.min(n - done, limit - position);
      System.arraycopy(buffer, position, out, done, take);
      position += take;
      done += take;
    }
    return out;
  }

  /** Bytes {@link #readUntilNul} skipped, when it returned null. */
  private long skippedToNul;

  /**
   * The body up to its NUL. Past {@code max} bytes a frame fails, unless {@code skipLarge}: then
   * the rest is skipped to the NUL and null returned, the body's size in {@link #skippedToNul}.
   */
  private byte[] readUntilNul(int max, boolean skipLarge) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    long skipped = -1;
    while (true) {
      if (position == limit) {
        fill();
      }
      int start = position;
      while (position < limit && buffer[position] != 0) {
        position++;
      }
      if (skipped >= 0) {
        skipped += position - start;
      } else {
        out.write(buffer, start, position - start);
        if (out.size() > max) {
          if (!skipLarge) {
            throw new StompProtocolException("frame body exceeds the frame limit");
          }
          skipped = out.size();
          out = null;
        }
      }
      if (position < limit) {
        position++; // the NUL
        if (skipped >= 0) {
          skippedToNul = skipped;
          return null;
        }
        return out.toByteArray();
      }
    }
  }

  /**
   * Moves past a body of {@code n} bytes, writing it to a copy when the {@link #copier} makes one.
   * A copy that fails on its side (its connection lost) leaves the rest of the body to be skipped;
   * a failure to read fails the frame, as anywhere else.
   */
  private CompletableFuture<Void> copyOrSkip(Map<String, String> headers, long n)
      throws IOException {
    BodyCopier c = copier;
    long[] done = {0};
    IOException[] readFailure = {null};
    CompletableFuture<Void> copied = null;
    if (c != null) {
      try {
        copied =
            c.copy(
                headers,
                n,
                out -> {
                  while (done[0] < n) {
                    if (position == limit) {
                      try {
                        fill();
                      } catch (IOException e) {
                        readFailure[0] = e;
                        throw e;
                      }
                    }
                    int take = (int) Math.min(n - done[0], limit - position);
                    out.write(buffer, position, take);
                    position += take;
                    done[0] += take;
                  }
                });
      } catch (RuntimeException e) {
        copied = CompletableFuture.failedFuture(e);
      }
    }
    if (readFailure[0] != null) {
      throw readFailure[0];
    }
    skip(n - done[0]);
    return copied;
  }

  private void skip(long n) throws IOException {
    long left = n;
    while (left > 0) {
      if (position == limit) {
        fill();
      }
      int take = (int) Math.min(left, limit - position);
      position += take;
      left -= take;
    }
  }

  private int readByte() throws IOException {
    if (position == limit) {
      fill();
    }
    return buffer[position++] & 0xff;
  }

  private int readByteOrEof() throws IOException {
    if (position == limit) {
      int n = in.read(buffer, 0, buffer.length);
      if (n < 0) {
        throw new EOFException("connection closed by the peer");
      }
      lastActivity = System.nanoTime();
      position = 0;
      limit = n;
    }
    return buffer[position++] & 0xff;
  }

  private void fill() throws IOException {
    int n = in.read(buffer, 0, buffer.length);
    if (n < 0) {
      throw new StompProtocolException("connection closed in the middle of a frame");
    }
    lastActivity = System.nanoTime(); // anything the peer sends counts, a frame or a heart-beat
    position = 0;
    limit = n;
  }

  private static String printable(String s) {
    String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
