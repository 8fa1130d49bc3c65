package dev.parley.messaging;

import dev.parley.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a subscription consumes. Immutable.
 *
 * @param concurrency lanes: how many messages are handled at once — the size of the subscription's
 *     handler pool for a blocking handler; on a partitioned channel messages of one key still run
 *     one at a time, in order, while up to this many keys run at once. An asynchronous handler runs
 *     on the transport's thread and is bounded by {@code prefetch} instead.
 * @param prefetch how many messages the subscription may hold unsettled — handed to it by the
 *     broker and not yet acknowledged, whether running, waiting behind their key or waiting for a
 *     retry
 * @param redelivery the retry tiers
 * @param policy guards every handler call: its rate limit throttles the consumer, its bulkhead
 *     bounds handler calls in flight (across subscriptions sharing the policy), its circuit breaker
 *     stops handling while the handler keeps failing — messages refused by the breaker or the
 *     bulkhead are redelivered through the {@code redelivery} tiers; {@link Policy#none()} by
 *     default
 * @param interceptors the subscription's own interceptors, run after the messaging's and before
 *     Parley's steps ({@link DeliveryInterceptor})
 * @param inbox what the {@code dedup} step asks once per delivery (null: no such step); see {@link
 *     #withInbox}
 * @param attemptInterceptors the subscription's own interceptors of each handling attempt, run
 *     after the messaging's ({@link #withAttemptInterceptor})
 */
public record SubscriptionOptions(
    int concurrency,
    int prefetch,
    Redelivery redelivery,
    Policy policy,
    List<DeliveryInterceptor> interceptors,
    Deduplication inbox,
    List<DeliveryInterceptor> attemptInterceptors) {

  /** Lanes by default: see {@link #defaults()}. */
  public static final int DEFAULT_CONCURRENCY = 8;

  /** Unsettled messages by default: see {@link #defaults()}. */
  public static final int DEFAULT_PREFETCH = 64;

  public SubscriptionOptions(int concurrency, int prefetch, Redelivery redelivery) {
    this(concurrency, prefetch, redelivery, Policy.none());
  }

  public SubscriptionOptions(int concurrency, int prefetch, Redelivery redelivery, Policy policy) {
    this(concurrency, prefetch, redelivery, policy, List.of(), null);
  }

  /** Options without interceptors of each attempt ({@link #withAttemptInterceptor}). */
  public SubscriptionOptions(
      int concurrency,
      int prefetch,
      Redelivery redelivery,
      Policy policy,
      List<DeliveryInterceptor> interceptors,
      Deduplication inbox) {
    this(concurrency, prefetch, redelivery, policy, interceptors, inbox, List.of());
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
    interceptors = List.copyOf(interceptors);
    attemptInterceptors = List.copyOf(attemptInterceptors);
  }

  /**
   * {@value #DEFAULT_CONCURRENCY} lanes, prefetch {@value #DEFAULT_PREFETCH}, {@link
   * Redelivery#defaults()}. Eight lanes keep a handler that waits on I/O (a database, another
   * service) from serialising a subscription, yet bound what one subscription can put on a
   * downstream; eight messages per lane let a lane start its next message while the last one's
   * acknowledgement or reply is still on its way to the broker. Per-key order does not depend on
   * either: it is kept by the key's lane.
   */
  public static SubscriptionOptions defaults() {
    return new SubscriptionOptions(DEFAULT_CONCURRENCY, DEFAULT_PREFETCH, Redelivery.defaults());
  }

  public SubscriptionOptions withConcurrency(int concurrency) {
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, interceptors, inbox, attemptInterceptors);
  }

  public SubscriptionOptions withPrefetch(int prefetch) {
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, interceptors, inbox, attemptInterceptors);
  }

  public SubscriptionOptions withRedelivery(Redelivery redelivery) {
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, interceptors, inbox, attemptInterceptors);
  }

  public SubscriptionOptions withPolicy(Policy policy) {
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, interceptors, inbox, attemptInterceptors);
  }

  /** These options with {@code interceptor} added after the subscription's others. */
  public SubscriptionOptions withInterceptor(DeliveryInterceptor interceptor) {
    List<DeliveryInterceptor> more = new ArrayList<>(interceptors);
    more.add(Objects.requireNonNull(interceptor, "interceptor"));
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, more, inbox, attemptInterceptors);
  }

  /**
   * These options with {@code interceptor} added after the subscription's other interceptors of
   * each attempt. Where {@link #withInterceptor} wraps a delivery once, whatever becomes of it, an
   * interceptor of each attempt runs inside the {@code retry} step, around every handling attempt
   * (the {@code reply}, {@code policy} and {@code handler} steps) — the first and each retry,
   * immediate or after a tier — as OkHttp's network interceptors see each try where its application
   * interceptors see the call once: for a span or a timer per attempt. Its stage fails when the
   * attempt failed (the {@code retry} step then decides what comes next, so {@link
   * DeliveryInvocation#outcome()} is still empty there), and {@link DeliveryInvocation#attempt()}
   * says which attempt it is. It does not see a message the steps before {@code retry} dealt with
   * (a duplicate, an expired message, bad input).
   */
  public SubscriptionOptions withAttemptInterceptor(DeliveryInterceptor interceptor) {
    List<DeliveryInterceptor> more = new ArrayList<>(attemptInterceptors);
    more.add(Objects.requireNonNull(interceptor, "interceptor"));
    return new SubscriptionOptions(
        concurrency, prefetch, redelivery, policy, interceptors, inbox, more);
  }

  /**
   * These options with a {@code dedup} step: before the retries, once per delivery, the
   * subscription asks {@code inbox} whether its group (the subscriber group, or the command
   * channel's name) has handled the message already, and acknowledges a duplicate without running
   * the handler. Pair it with the inbox's transactional handler, which records the message in the
   * handler's transaction and reads the group from {@link MessageContext#group()}.
   */
  public SubscriptionOptions withInbox(Deduplication inbox) {
    return new SubscriptionOptions(
        concurrency,
        prefetch,
        redelivery,
        policy,
        interceptors,
        java.util.Objects.requireNonNull(inbox, "inbox"),
        attemptInterceptors);
  }
}
