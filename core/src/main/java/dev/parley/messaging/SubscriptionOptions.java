package dev.parley.messaging;

import dev.parley.policy.Policy;
import java.util.Objects;

/**
 * How a subscription consumes. Immutable.
 *
 * @param concurrency how many messages are handled at once (each on its own consumer); on a
 *     partitioned channel, messages of one key are still handled one at a time
 * @param prefetch how many messages each consumer may hold before handling them
 * @param redelivery the retry tiers
 * @param policy guards every handler call: its rate limit throttles the consumer, its bulkhead
 *     bounds handler calls in flight (across subscriptions sharing the policy), its circuit breaker
 *     stops handling while the handler keeps failing — messages refused by the breaker or the
 *     bulkhead are redelivered through the {@code redelivery} tiers; {@link Policy#none()} by
 *     default
 */
public record SubscriptionOptions(
    int concurrency, int prefetch, Redelivery redelivery, Policy policy) {

  public SubscriptionOptions(int concurrency, int prefetch, Redelivery redelivery) {
    this(concurrency, prefetch, redelivery, Policy.none());
  }

  public SubscriptionOptions {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: > 0)");
    }
    if (prefetch < 1) {
      throw new IllegalArgumentException("prefetch: " + prefetch + " (expected: > 0)");
    }
    Objects.requireNonNull(redelivery, "redelivery");
    Objects.requireNonNull(policy, "policy");
  }

  /** One consumer, prefetch 10, {@link Redelivery#defaults()}. */
  public static SubscriptionOptions defaults() {
    return new SubscriptionOptions(1, 10, Redelivery.defaults());
  }

  public SubscriptionOptions withConcurrency(int concurrency) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery, policy);
  }

  public SubscriptionOptions withPrefetch(int prefetch) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery, policy);
  }

  public SubscriptionOptions withRedelivery(Redelivery redelivery) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery, policy);
  }

  public SubscriptionOptions withPolicy(Policy policy) {
    return new SubscriptionOptions(concurrency, prefetch, redelivery, policy);
  }
}
