package dev.parley.transport.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * The one check every builder's timeouts and intervals go through, and the time left until a
 * deadline that closes and stops share out.
 */
public final class Durations {

  private Durations() {}

  /** The time left until {@code deadline} ({@link System#nanoTime}), zero once it passed. */
  public static Duration until(long deadline) {
    return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

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
