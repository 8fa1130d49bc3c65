package dev.parley.transport.spi;

import java.time.Duration;
import java.util.Objects;

/** The one check every builder's timeouts and intervals go through. */
public final class Durations {

  private Durations() {}

  /**
   * Returns {@code d} if it is positive.
   *
   * @throws IllegalArgumentException naming the setting otherwise
   */
  public static Duration positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
    }
    return d;
  }
}
