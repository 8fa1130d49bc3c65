package dev.parley.transport.stomp;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;

/**
 * One STOMP 1.2 frame: a command, headers (the first of repeated headers wins, as the specification
 * says) and a body. {@code unreadable} says why a received MESSAGE's headers could not all be kept
 * (then it is dead-lettered, not handled), and is null otherwise.
 */
record StompFrame(String command, Map<String, String> headers, byte[] body, String unreadable) {

  /** {@code headers} is handed over: the caller does not change the map afterwards. */
  StompFrame {
    Objects.requireNonNull(command, "command");
    headers = Collections.unmodifiableMap(headers);
    body = body == null ? new byte[0] : body;
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
    boolean escape = !command.equals("CONNECT") && !command.equals("CONNECTED");
    StringBuilder head = new StringBuilder(64 + headers.size() * 32);
    head.append(command).append('\n');
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      if (name.equals("content-length") || (receipt != null && name.equals("receipt"))) {
        continue;
      }
      append(head, name, escape);
      head.append(':');
      append(head, h.getValue(), escape);
      head.append('\n');
    }
    if (receipt != null) {
      head.append("receipt:").append(receipt).append('\n');
    }
    if (body.length > 0 || command.equals("SEND") || command.equals("MESSAGE")) {
      head.append("content-length:").append(body.length).append('\n');
    }
    head.append('\n');
    byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
    byte[] frame = new byte[h.length + body.length + 1]; // the last byte: the NUL that ends it
    System.arraycopy(h, 0, frame, 0, h.length);
    System.arraycopy(body, 0, frame, h.length, body.length);
    return frame;
  }

  private static void append(StringBuilder out, String text, boolean escape) {
    if (!escape) {
      if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
        throw new IllegalArgumentException("line break in an unescaped STOMP header: " + text);
      }
      out.append(text);
      return;
    }
    if (!needsEscape(text)) {
      out.append(text); // most names and values: one copy, not a character at a time
      return;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case ':' -> out.append("\\c");
        default -> out.append(c);
      }
    }
  }

  private static boolean needsEscape(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' || c == '\n' || c == '\r' || c == ':') {
        return true;
      }
    }
    return false;
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
