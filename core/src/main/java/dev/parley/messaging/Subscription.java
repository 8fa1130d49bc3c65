package dev.parley.messaging;

/**
 * A running consumer of a channel. {@link #close()} stops deliveries, lets handlers in progress
 * finish within a bound and returns unacknowledged messages to the broker; it is idempotent.
 * Thread-safe.
 */
public interface Subscription extends AutoCloseable {

  /** The channel consumed. */
  String channel();

  /** The subscriber group (for a command channel: the channel name). */
  String group();

  /**
   * The chain each delivery runs through, outermost first, with the dispatch settings, e.g. {@code
   * orders.created/billing: 8 lanes (blocking handler pool), per-key order; deadline → decode →
   * retry[…] → reply → handler}.
   */
  default String describe() {
    return channel() + "/" + group();
  }

  @Override
  void close();
}
