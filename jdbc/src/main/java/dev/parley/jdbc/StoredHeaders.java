package dev.parley.jdbc;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A message's headers in one text column: {@code name=value} pairs joined by {@code &}, both
 * URL-encoded (as an HTML form would send them), so any header survives the round trip.
 */
final class StoredHeaders {

  private StoredHeaders() {}

  static String write(Map<String, String> headers) {
    StringBuilder out = new StringBuilder(headers.size() * 40);
    for (Map.Entry<String, String> h : headers.entrySet()) {
      if (out.length() > 0) {
        out.append('&');
      }
      out.append(URLEncoder.encode(h.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(h.getValue(), StandardCharsets.UTF_8));
    }
    return out.toString();
  }

  static Map<String, String> read(String text) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (text == null || text.isEmpty()) {
      return headers;
    }
    for (String pair : text.split("&")) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("not a stored header: " + pair);
      }
      headers.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return headers;
  }
}
