package dev.parley.transport.spi;

/**
 * How a transport consumes one destination.
 *
 * @param concurrency consumers opened on the destination (members of its group, for a partitioned
 *     one); each pushes its deliveries to the handler without waiting for earlier ones
 * @param prefetch deliveries a consumer may hold unsettled: the most it hands to the handler before
 *     one of them is settled
 * @param temporary whether the queue lives only as long as its consumers (reply channels)
 * @param partitioned whether the destination is a partitioned channel: messages with the same
 *     {@link dev.parley.message.Headers#PARTITION_KEY} must reach one consumer at a time, in order.
 *     Brokers that partition by topology (RabbitMQ) need to know this when they declare the queues.
 */
public record ConsumerSettings(
    int concurrency, int prefetch, boolean temporary, boolean partitioned) {

  public ConsumerSettings {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: > 0)");
    }
    if (prefetch < 1) {
      throw new IllegalArgumentException("prefetch: " + prefetch + " (expected: > 0)");
    }
  }

  /** Settings for a destination that is not partitioned. */
  public ConsumerSettings(int concurrency, int prefetch, boolean temporary) {
    this(concurrency, prefetch, temporary, false);
  }
}
