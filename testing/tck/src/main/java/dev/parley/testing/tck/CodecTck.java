package dev.parley.testing.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite every {@link Codec} passes: round trips of a fixture set, content type, and
 * hostile input (size limit + 1, truncation, deep nesting, invalid UTF-8, random corruption) —
 * which must only ever fail with {@link CodecException} carrying a stable code. Extend it in a test
 * class whose name contains {@code Tck}, with the codec configured for {@link #MAX_PAYLOAD} bytes
 * and a nesting limit of at most {@link #MAX_DEPTH}.
 */
public abstract class CodecTck {

  /** The payload limit the codec under test must be configured with. */
  protected static final int MAX_PAYLOAD = 16 * 1024;

  /** The nesting limit the codec under test must enforce (at most). */
  protected static final int MAX_DEPTH = 32;

  /**
   * Sample values in the codec's type system.
   *
   * @param small about 100 bytes encoded
   * @param medium about 1 KiB encoded
   * @param nested a few levels of nested records
   * @param collections lists, sets or maps
   * @param optionalAbsent a value whose optional fields are absent
   * @param timestamps date/time values (or the format's way of carrying them)
   * @param unicode text beyond ASCII: accents, CJK, right-to-left, emoji
   */
  public record Fixtures(
      Object small,
      Object medium,
      Object nested,
      Object collections,
      Object optionalAbsent,
      Object timestamps,
      Object unicode) {}

  /** The codec under test, configured as the class comment says. */
  protected abstract Codec codec();

  protected abstract Fixtures fixtures();

  /** A payload in this format nesting {@code 4 × MAX_DEPTH} levels deep, of {@link #deepType()}. */
  protected abstract byte[] deeplyNested();

  protected abstract Class<?> deepType();

  /** A payload in this format whose string holds invalid UTF-8, of {@link #invalidUtf8Type()}. */
  protected abstract byte[] invalidUtf8();

  protected abstract Class<?> invalidUtf8Type();

  @Test
  void roundTripsSmall() {
    byte[] bytes = assertRoundTrip(fixtures().small());
    assertThat(bytes.length).as("small fixture size").isBetween(10, 400);
  }

  @Test
  void roundTripsMedium() {
    byte[] bytes = assertRoundTrip(fixtures().medium());
    assertThat(bytes.length).as("medium fixture size").isBetween(400, 8 * 1024);
  }

  @Test
  void roundTripsNested() {
    assertRoundTrip(fixtures().nested());
  }

  @Test
  void roundTripsCollections() {
    assertRoundTrip(fixtures().collections());
  }

  @Test
  void roundTripsAbsentOptionalFields() {
    assertRoundTrip(fixtures().optionalAbsent());
  }

  @Test
  void roundTripsTimestamps() {
    assertRoundTrip(fixtures().timestamps());
  }

  @Test
  void roundTripsUnicode() {
    assertRoundTrip(fixtures().unicode());
  }

  @Test
  void isChosenByItsContentType() {
    Codec codec = codec();
    Class<?> type = fixtures().small().getClass();

    assertThat(codec.contentType()).matches("[a-z]+/[a-z0-9.+-]+");
    assertThat(codec.supports(type)).isTrue();
    assertThat(Codecs.of(codec).decoderFor(codec.contentType() + "; charset=utf-8", type))
        .isSameAs(codec);
  }

  @Test
  void encodingIsDeterministic() {
    Object medium = fixtures().medium();

    assertThat(codec().encode(medium)).isEqualTo(codec().encode(medium));
  }

  @Test
  void rejectsPayloadOneByteOverTheLimit() {
    byte[] bytes = codec().encode(fixtures().small());
    byte[] oversized = Arrays.copyOf(bytes, MAX_PAYLOAD + 1);

    assertThatThrownBy(() -> codec().decode(oversized, fixtures().small().getClass()))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.TOO_LARGE));
  }

  @Test
  void rejectsTruncatedInput() {
    byte[] bytes = codec().encode(fixtures().medium());
    byte[] truncated = Arrays.copyOf(bytes, bytes.length / 2);

    assertThatThrownBy(() -> codec().decode(truncated, fixtures().medium().getClass()))
        .isInstanceOf(CodecException.class);
  }

  @Test
  void rejectsDeepNestingWithoutStackOverflow() {
    byte[] deep = deeplyNested();

    assertThatThrownBy(() -> codec().decode(deep, deepType()))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.TOO_DEEP));
  }

  @Test
  void rejectsInvalidUtf8() {
    byte[] bad = invalidUtf8();

    assertThatThrownBy(() -> codec().decode(bad, invalidUtf8Type()))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.MALFORMED));
  }

  @Test
  void corruptedInputFailsOnlyWithCodecException() {
    Object medium = fixtures().medium();
    byte[] original = codec().encode(medium);
    Random random = new Random(20261124L);

    for (int i = 0; i < 500; i++) {
      byte[] corrupted = original.clone();
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        corrupted[random.nextInt(corrupted.length)] = (byte) random.nextInt(256);
      }
      try {
        codec().decode(corrupted, medium.getClass());
      } catch (CodecException expected) {
        assertThat(expected.errorCode()).startsWith("parley.codec.");
      } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
        fail("corruption #" + i + " escaped as " + e, e);
      }
    }
  }

  /**
   * The property every decoder's fuzz test checks: decoding arbitrary bytes as each of {@code
   * types} either fails with a {@link CodecException}, or yields a value that re-encodes and
   * decodes to an equal value. Call it from a Jazzer {@code @FuzzTest} in the codec's module.
   */
  public static void assertDecodesOrFailsCleanly(Codec codec, byte[] input, Class<?>... types) {
    for (Class<?> type : types) {
      try {
        Object value = codec.decode(input, type);
        assertThat(codec.decode(codec.encode(value), type)).isEqualTo(value);
      } catch (CodecException expected) {
        assertThat(expected.errorCode()).startsWith("parley.codec.");
      }
    }
  }

  private byte[] assertRoundTrip(Object value) {
    Codec codec = codec();
    byte[] bytes = codec.encode(value);

    Object decoded = codec.decode(bytes, value.getClass());

    assertThat(decoded).isEqualTo(value);
    return bytes;
  }
}
