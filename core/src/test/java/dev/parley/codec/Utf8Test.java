package dev.parley.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.spi.Utf8;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8Test {

  @Test
  void agreesWithTheJdkStrictDecoderOnRandomInput() {
    Random random = new Random(42);
    int valid = 0;
    for (int n = 0; n < 200_000; n++) {
      byte[] bytes = new byte[random.nextInt(8)];
      for (int i = 0; i < bytes.length; i++) {
        // bias towards multi-byte lead and continuation bytes
        bytes[i] =
            (byte) (random.nextBoolean() ? 0x80 + random.nextInt(0x80) : random.nextInt(256));
      }
      boolean expected = jdkAccepts(bytes);
      valid += expected ? 1 : 0;

      assertThat(Utf8.isValid(bytes, 0, bytes.length))
          .as("%s", java.util.HexFormat.of().formatHex(bytes))
          .isEqualTo(expected);
    }
    assertThat(valid).isGreaterThan(1000);
  }

  @Test
  void fastAsciiPathFindsABadByteAnywhere() {
    Random random = new Random(7);
    for (int n = 0; n < 20_000; n++) {
      byte[] bytes = new byte[8 + random.nextInt(80)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = (byte) (0x20 + random.nextInt(0x5f));
      }
      if (random.nextBoolean()) {
        bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x80));
      }
      int offset = random.nextInt(4);

      assertThat(Utf8.isValid(bytes, offset, bytes.length - offset))
          .isEqualTo(jdkAccepts(java.util.Arrays.copyOfRange(bytes, offset, bytes.length)));
    }
  }

  @Test
  void acceptsTextFromEveryPlane() {
    byte[] text = "Grüße 你好 مرحبا 🚀 \u0000 \uFFFD".getBytes(StandardCharsets.UTF_8);

    assertThat(Utf8.isValid(text, 0, text.length)).isTrue();
    assertThat(Utf8.isValid(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, 0, 3))
        .as("surrogate")
        .isFalse();
    assertThat(Utf8.isValid(new byte[] {(byte) 0xC0, (byte) 0x80}, 0, 2))
        .as("overlong NUL")
        .isFalse();
  }

  private static boolean jdkAccepts(byte[] bytes) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }
}
