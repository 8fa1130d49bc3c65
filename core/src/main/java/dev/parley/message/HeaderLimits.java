package dev.parley.message;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The documented limits on a message's id and headers ({@code docs/wire.md} §1), checked in one
 * place: {@link Message.Builder#build()} refuses a message past them, and a transport reading a
 * message from the wire checks them before anything else runs ({@link
 * dev.parley.transport.spi.Delivery#fromWire}), so an oversized or malformed header is bad input
 * that is dead-lettered once — never a message that fails later in an encoder, a database column or
 * a confirm window.
 *
 * <p>The id and the headers that name things (correlation and causation ids, reply address,
 * partition key, type, source, channel, content type) are at most {@value #MAX_NAME_VALUE_BYTES}
 * UTF-8 bytes: AMQP 0-9-1 carries {@code message_id}, {@code correlation_id} and {@code reply_to}
 * as short strings of that size. Other values are at most {@value #MAX_VALUE_CHARS} characters, all
 * names and values together at most {@value #MAX_TOTAL_CHARS} characters, and a message has at most
 * {@value #MAX_HEADERS} headers. Names are 1 to {@value #MAX_NAME_BYTES} UTF-8 bytes, not blank,
 * without control characters. Values have no NUL character (STOMP ends a frame with one).
 */
public final class HeaderLimits {

  /** Most headers a message may have, its id included. */
  public static final int MAX_HEADERS = 100;

  /** Longest header name, in UTF-8 bytes (an AMQP 0-9-1 table key is a short string). */
  public static final int MAX_NAME_BYTES = 128;

  /** Longest id, correlation or causation id, reply address, partition key, type, content type. */
  public static final int MAX_NAME_VALUE_BYTES = 255;

  /** Longest value of any other header, in characters. */
  public static final int MAX_VALUE_CHARS = 8 * 1024;

  /** All header names and values together, in characters. */
  public static final int MAX_TOTAL_CHARS = 64 * 1024;

  private HeaderLimits() {}

  /**
   * What is wrong with a message's id and headers, or null when they are within the limits. The
   * text names the header and the limit but never repeats a whole value (it may be huge or
   * hostile).
   */
  public static String violation(Map<String, String> headers) {
    if (headers.size() > MAX_HEADERS) {
      return headers.size() + " headers (expected: at most " + MAX_HEADERS + ")";
    }
    long total = 0;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      String problem = nameViolation(name);
      if (problem == null) {
        problem = valueViolation(name, h.getValue());
      }
      if (problem != null) {
        return problem;
      }
      total += name.length() + h.getValue().length();
    }
    if (total > MAX_TOTAL_CHARS) {
      return "headers of " + total + " characters (expected: at most " + MAX_TOTAL_CHARS + ")";
    }
    return null;
  }

  /** What is wrong with a header name, or null. */
  public static String nameViolation(String name) {
    if (name == null) {
      return "a header with a blank name";
    }
    // One pass for the three rules (every header of every message goes through here).
    boolean blank = true;
    boolean control = false;
    boolean ascii = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        control = true;
      } else if (c >= 0x80) {
        ascii = false;
      }
      if (blank && !Character.isWhitespace(c)) {
        blank = false;
      }
    }
    if (blank) {
      return "a header with a blank name";
    }
    int bytes = ascii ? name.length() : utf8Length(name, MAX_NAME_BYTES);
    if (bytes > MAX_NAME_BYTES) {
      return "a header name of "
          + bytes
          + " bytes starting '"
          + printable(name)
          + "' (expected: at most "
          + MAX_NAME_BYTES
          + ")";
    }
    if (control) {
      return "header name '" + printable(name) + "' has control characters";
    }
    return null;
  }

  /** What is wrong with the value of header {@code name}, or null. */
  public static String valueViolation(String name, String value) {
    if (value == null) {
      return name + ": no value";
    }
    if (isNameLike(name)) {
      if (Headers.ID.equals(name) && value.isBlank()) {
        return name + ": blank (expected: an id)";
      }
      int bytes = utf8Length(value, MAX_NAME_VALUE_BYTES);
      if (bytes > MAX_NAME_VALUE_BYTES) {
        return name + ": " + bytes + " bytes (expected: at most " + MAX_NAME_VALUE_BYTES + ")";
      }
    } else if (value.length() > MAX_VALUE_CHARS) {
      return name
          + ": "
          + value.length()
          + " characters (expected: at most "
          + MAX_VALUE_CHARS
          + ")";
    }
    if (value.indexOf('\0') >= 0) {
      return name + ": has a NUL character";
    }
    return null;
  }

  /** The headers whose values are ids or names, limited to {@value #MAX_NAME_VALUE_BYTES} bytes. */
  static boolean isNameLike(String name) {
    return switch (name) {
      case Headers.ID,
          Headers.CORRELATION_ID,
          Headers.CAUSATION_ID,
          Headers.REPLY_TO,
          Headers.PARTITION_KEY,
          Headers.TYPE,
          Headers.SOURCE,
          Headers.CHANNEL,
          Headers.CONTENT_TYPE ->
          true;
      default -> false;
    };
  }

  private static int utf8Length(String s, int limit) {
    if (s.length() * 3 <= limit) {
      return s.length(); // cannot be too long; the exact count does not matter
    }
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /** The first 40 characters, control characters shown as '?', for error texts. */
  static String printable(String s) {
    String head = s.length() <= 40 ? s : s.substring(0, 40) + "...";
    StringBuilder b = new StringBuilder(head.length());
    for (int i = 0; i < head.length(); i++) {
      char c = head.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return b.toString();
  }
}
