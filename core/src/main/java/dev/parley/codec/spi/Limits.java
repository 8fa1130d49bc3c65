package dev.parley.codec.spi;

import dev.parley.codec.CodecException;

/** The limit checks every codec makes, with one wording and one error code. */
public final class Limits {

  private Limits() {}

  /**
   * Refuses a payload over the limit, before any parsing or after encoding.
   *
   * @throws CodecException with {@link CodecException#TOO_LARGE}
   */
  public static void checkPayloadSize(int bytes, int maxBytes) {
    if (bytes > maxBytes) {
      throw new CodecException(
          CodecException.TOO_LARGE, "payload: " + bytes + " bytes (expected: <= " + maxBytes + ")");
    }
  }

  /** Validates a builder setting that must be positive. */
  public static int positive(int value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
    return value;
  }
}
