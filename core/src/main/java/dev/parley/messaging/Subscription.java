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

  @Override
  void close();
}
