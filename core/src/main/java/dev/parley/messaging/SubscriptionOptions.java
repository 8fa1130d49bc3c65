package dev.parley.messaging;

import java.util.Objects;

/**
 * How a subscription consumes. Immutable.
 *
 * @param concurrency how many messages are handled at once (each on its own consumer); on a
 *     partitioned channel, messages of one key are still handled one at a time
 * @param prefetch how many messages each consumer may hold before handling them
 * @param redelivery the retry tiers
 */
public record SubscriptionOptions(int concurrency, int prefetch, Redelivery redelivery) {

  public SubscriptionOptions {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: > 0)");
    }
    if (prefetch < 1) {
      throw new IllegalArgumentException("prefetch: " + prefetch + " (expected: > 0)");
    }
    Objects.requireNonNull(redelivery, "redelivery");
  }

  /** One consumer, prefetch 10, {@link Redelivery#defaults()}. */
  public static SubscriptionOptions defaults() {
    return new SubscriptionOptions(1, 10, Redelivery.defaults());
  }

  public SubscriptionOptions withConcurrency(int concurrency) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery);
  }

  public SubscriptionOptions withPrefetch(int prefetch) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery);
  }

  public SubscriptionOptions withRedelivery(Redelivery redelivery) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery);
  }
}
