package dev.parley.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeaderLimitsTest {

  @Test
  void acceptsWhatIsWithinTheLimitsToTheByte() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(Headers.ID, "i".repeat(HeaderLimits.MAX_NAME_VALUE_BYTES));
    headers.put("n".repeat(HeaderLimits.MAX_NAME_BYTES), "v");
    headers.put("note", "x".repeat(HeaderLimits.MAX_VALUE_CHARS));
    headers.put("line-breaks", "a\r\nb\tc");

    assertThat(HeaderLimits.violation(headers)).isNull();
  }

  @Test
  void refusesOversizedIdsCountingUtf8Bytes() {
    String twoByteChars = "é".repeat(128); // 256 bytes, 128 characters

    assertThat(HeaderLimits.violation(Map.of(Headers.ID, twoByteChars)))
        .isEqualTo("parley-id: 256 bytes (expected: at most 255)");
    assertThat(HeaderLimits.violation(Map.of(Headers.REPLY_TO, "q".repeat(256))))
        .contains("parley-reply-to: 256 bytes");
  }

  @Test
  void namesEveryOtherViolationWithoutRepeatingTheValue() {
    Map<String, String> many = new LinkedHashMap<>();
    for (int i = 0; i <= HeaderLimits.MAX_HEADERS; i++) {
      many.put("h" + i, "v");
    }

    assertThat(HeaderLimits.violation(many)).startsWith("101 headers");
    assertThat(HeaderLimits.violation(Map.of(" ", "v"))).contains("blank name");
    assertThat(HeaderLimits.violation(Map.of("a\nb", "v"))).contains("control characters");
    assertThat(HeaderLimits.violation(Map.of("n".repeat(129), "v"))).contains("129 bytes");
    assertThat(HeaderLimits.violation(Map.of("\u00e9".repeat(64), "v"))).isNull();
    assertThat(HeaderLimits.violation(Map.of("\u00e9".repeat(65), "v"))).contains("130 bytes");
    assertThat(HeaderLimits.violation(Map.of("\t", "v"))).contains("blank name");
    assertThat(HeaderLimits.violation(Map.of("", "v"))).contains("blank name");
    assertThat(HeaderLimits.violation(Map.of(Headers.ID, " "))).contains("blank");
    assertThat(HeaderLimits.violation(Map.of("big", "x".repeat(9_000))))
        .isEqualTo("big: 9000 characters (expected: at most 8192)");
    assertThat(HeaderLimits.violation(Map.of("nul", "a\0b"))).contains("NUL");
    Map<String, String> heavy = new LinkedHashMap<>();
    for (int i = 0; i < 9; i++) {
      heavy.put("part" + i, "x".repeat(8_000));
    }
    assertThat(HeaderLimits.violation(heavy)).contains("expected: at most 65536");
  }

  @Test
  void messagesPastTheLimitsCannotBeBuilt() {
    assertThatThrownBy(() -> Message.builder().id("i".repeat(10_240)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("10240 bytes")
        .hasMessageNotContaining("i".repeat(100));
  }
}
