package dev.parley.transport.spi;

/**
 * An active consumer registration. {@link #close()} stops new deliveries, waits a bounded time for
 * deliveries being handled, releases unacknowledged ones back to the broker, and is idempotent.
 */
public interface TransportSubscription extends AutoCloseable {

  @Override
  void close();
}
