package dev.parley.transport.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-send options.
 *
 * @param delay how long the broker holds the message before delivering it ({@link Duration#ZERO}
 *     for at once); used for delayed redelivery
 * @param persistent whether the broker writes the message to disk before it accepts it (every
 *     message but a reply: a reply is worth no more than the caller waiting for it, whose reply
 *     queue does not outlive it, so it is sent {@link #TRANSIENT} and costs the broker no fsync)
 */
public record SendOptions(Duration delay, boolean persistent) {

  /** Deliver at once, persistent. */
  public static final SendOptions NONE = new SendOptions(Duration.ZERO, true);

  /** Deliver at once, not written to disk: for replies. */
  public static final SendOptions TRANSIENT = new SendOptions(Duration.ZERO, false);

  public SendOptions {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
  }

  /** Deliver after {@code delay}, persistent. */
  public static SendOptions delayed(Duration delay) {
    return new SendOptions(delay, true);
  }
}
