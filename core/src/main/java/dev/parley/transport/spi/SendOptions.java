package dev.parley.transport.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-send options.
 *
 * @param delay how long the broker holds the message before delivering it ({@link Duration#ZERO}
 *     for at once); used for delayed redelivery
 */
public record SendOptions(Duration delay) {

  /** Deliver at once. */
  public static final SendOptions NONE = new SendOptions(Duration.ZERO);

  public SendOptions {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
  }

  /** Deliver after {@code delay}. */
  public static SendOptions delayed(Duration delay) {
    return new SendOptions(delay);
  }
}
