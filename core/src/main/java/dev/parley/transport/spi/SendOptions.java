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
 * @param confirmed whether {@link Transport#send}'s future waits for the broker's acceptance (true
 *     for every message but a request, {@link #REQUEST}). A request is confirmed by its reply: the
 *     caller waits for that anyway, and a broker that lost the request (or never got it) sends no
 *     reply, so the caller's timeout covers it, as it covers a request the broker accepted and then
 *     lost with a node. A transport may then complete the future once the message is written to the
 *     connection — RabbitMQ without a publisher confirm, STOMP without a RECEIPT — and fails it
 *     only when it cannot write it; a transport may confirm anyway (AMQP 1.0 does).
 */
public record SendOptions(Duration delay, boolean persistent, boolean reply, boolean confirmed) {

  /** Deliver at once, persistent. */
  public static final SendOptions NONE = new SendOptions(Duration.ZERO, true);

  /** Deliver at once, not written to disk. */
  public static final SendOptions TRANSIENT = new SendOptions(Duration.ZERO, false);

  /** A reply: at once, not written to disk, to an existing queue only. */
  public static final SendOptions REPLY = new SendOptions(Duration.ZERO, false, true);

  /** A request: at once, persistent, confirmed by its reply rather than by the broker. */
  public static final SendOptions REQUEST = new SendOptions(Duration.ZERO, true, false, false);

  public SendOptions {
    Objects.requireNonNull(delay, "delay");
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
    }
  }

  /** Confirmed options. */
  public SendOptions(Duration delay, boolean persistent, boolean reply) {
    this(delay, persistent, reply, true);
  }

  /** Confirmed options that are not a reply. */
  public SendOptions(Duration delay, boolean persistent) {
    this(delay, persistent, false);
  }

  /** Deliver after {@code delay}, persistent. */
  public static SendOptions delayed(Duration delay) {
    return new SendOptions(delay, true);
  }
}
