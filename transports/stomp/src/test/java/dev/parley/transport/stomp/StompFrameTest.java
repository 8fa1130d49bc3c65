package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StompFrameTest {

  /** Names and values an encoder can get wrong: escapes before and after characters past ASCII. */
  private static final List<String> TEXTS =
      List.of(
          "",
          "plain",
          "a:b",
          "back\\slash",
          "line1\nline2\r\n",
          "::\\\\",
          "café",
          "é:\\\n",
          ":é",
          "emoji 🚀 then : and \\",
          "lone \uD800 surrogate:",
          "x".repeat(10_000) + ":" + "ü".repeat(3_000));

  /** What STOMP 1.2 says a frame is, written the plain way: StringBuilder, then UTF-8. */
  private static byte[] reference(String command, Map<String, String> headers, byte[] body) {
    StringBuilder head = new StringBuilder(command).append('\n');
    headers.forEach(
        (name, value) -> head.append(escape(name)).append(':').append(escape(value)).append('\n'));
    head.append("content-length:").append(body.length).append("\n\n");
    byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
    byte[] frame = new byte[h.length + body.length + 1];
    System.arraycopy(h, 0, frame, 0, h.length);
    System.arraycopy(body, 0, frame, h.length, body.length);
    return frame;
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace(":", "\\c");
  }

  @Test
  void encodesEveryNameAndValueAsTheSpecificationWritesThem() throws IOException {
    byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    for (String name : TEXTS) {
      for (String value : TEXTS) {
        if (name.isEmpty()) {
          continue;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("destination", "/queue/a");
        headers.put(name, value);

        byte[] encoded = StompFrame.encode("SEND", headers, null, body);

        assertThat(encoded).isEqualTo(reference("SEND", headers, body));
        if (!name.contains("\uD800") && !value.contains("\uD800")) { // '?' once written
          StompFrame read = new StompFrameReader(new ByteArrayInputStream(encoded), 1 << 20).read();
          assertThat(read.headers()).containsEntry(name, value);
          assertThat(read.body()).isEqualTo(body);
        }
      }
    }
  }

  @Test
  void writesConnectHeadersAsTheyAreButNeverALineBreak() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("login", "us:er\\é");
    String encoded =
        new String(
            StompFrame.encode("CONNECT", headers, null, new byte[0]), StandardCharsets.UTF_8);
    assertThat(encoded).isEqualTo("CONNECT\nlogin:us:er\\é\n\n\0");

    for (String bad : List.of("a\nb", "a\rb", "é\nb")) {
      assertThatThrownBy(
              () -> StompFrame.encode("CONNECT", Map.of("passcode", bad), null, new byte[0]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("line break");
    }
  }

  @Test
  void aReceiptTakesThePlaceOfTheMapsAndContentLengthIsAlwaysItsOwn() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("receipt", "old");
    headers.put("content-length", "999");
    headers.put("destination", "/queue/a");
    String encoded =
        new String(
            StompFrame.encode("SEND", headers, "7", "hi".getBytes(StandardCharsets.UTF_8)),
            StandardCharsets.UTF_8);
    assertThat(encoded)
        .isEqualTo("SEND\ndestination:/queue/a\nreceipt:7\ncontent-length:2\n\nhi\0");
  }
}
