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
 * @param reply whether this is a reply ({@link #REPLY}): its queue was named by the sender of the
 *     request, so the transport declares nothing for it — a reply to a queue that does not exist is
 *     dropped (the caller has gone), never creates one (RELIABILITY.md S6)
 */
public record SendOptions(Duration delay, boolean persistent, boolean reply) {

  /** Deliver at once, persistent. */
  public static final SendOptions NONE = new SendOptions(Duration.ZERO, true);

  /** Deliver at once, not written to disk. */
  public static final SendOptions TRANSIENT = new SendOptions(Duration.ZERO, false);

  /** A reply: at once, not written to disk, to an existing queue only. */
  public static final SendOptions REPLY = new SendOptions(Duration.ZERO, false, true);

  public SendOptions {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
  }

  /** Options that are not a reply. */
  public SendOptions(Duration delay, boolean persistent) {
    this(delay, persistent, false);
  }

  /** Deliver after {@code delay}, persistent. */
  public static SendOptions delayed(Duration delay) {
    return new SendOptions(delay, true);
  }
}
