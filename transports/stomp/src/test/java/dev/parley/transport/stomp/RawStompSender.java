package dev.parley.transport.stomp;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A foreign STOMP client for the TCK's hostile-input scenario: one connection per message, a SEND
 * with exactly the given headers (Parley's frame writer escapes but never checks them), and the
 * broker's RECEIPT awaited.
 */
final class RawStompSender {

  private RawStompSender() {}

  static void send(
      int port,
      List<Map.Entry<String, String>> address,
      List<Map.Entry<String, String>> headers,
      byte[] body)
      throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      StompFrameReader in = new StompFrameReader(socket.getInputStream(), 16 * 1024 * 1024);
      out.write(
          StompFrame.of(
                  "CONNECT",
                  Map.of(
                      "accept-version", "1.2",
                      "host", "/",
                      "login", "guest",
                      "passcode", "guest",
                      "heart-beat", "0,0"))
              .encode());
      expect(in, "CONNECTED");
      Map<String, String> h = new LinkedHashMap<>();
      address.forEach(e -> h.put(e.getKey(), e.getValue()));
      headers.forEach(e -> h.putIfAbsent(e.getKey(), e.getValue()));
      h.put("receipt", "raw-1");
      out.write(new StompFrame("SEND", h, body).encode());
      expect(in, "RECEIPT");
      out.write(StompFrame.of("DISCONNECT", Map.of()).encode());
    }
  }

  private static void expect(StompFrameReader in, String command) throws IOException {
    StompFrame frame = in.read();
    if (!frame.command().equals(command)) {
      throw new IOException(
          "expected " + command + ", got " + frame.command() + " " + frame.headers());
    }
  }
}
