package dev.parley.messaging;

import java.util.concurrent.CompletionStage;

/**
 * Wraps the handling of every delivery of a subscription, like OkHttp's {@code Interceptor} or
 * grpc's {@code ServerInterceptor}: it sees the delivery, calls {@link
 * DeliveryInvocation#proceed()} (or does not, to stop it), and sees the outcome: the stage, and
 * then {@link DeliveryInvocation#outcome()} (handled, duplicate, expired, redelivered or
 * dead-lettered) with {@link DeliveryInvocation#failure()}. It sees every message the subscription
 * receives, those its transport dead-lettered itself without handing them over included (larger
 * than it reads: headers only, dead-lettered at the {@code deadline} step).
 *
 * <p>Every subscription runs one ordered chain, printed by {@link Subscription#describe()}: the
 * interceptors added to the {@link MessagingBuilder#interceptor builder} and then those of the
 * {@link SubscriptionOptions#withInterceptor subscription}, in the order added, then Parley's own
 * steps — {@code deadline} (reads and checks the deadline, attempt and reply headers; drops an
 * expired message) → {@code decode} → {@code retry} (immediate retries and redelivery tiers, then
 * the dead-letter channel) → {@code policy} → {@code reply} (sends what the handler returned to a
 * requester) → {@code handler}. Tracing and metrics modules plug in the same way. An interceptor of
 * each attempt ({@link MessagingBuilder#attemptInterceptor}, {@link
 * SubscriptionOptions#withAttemptInterceptor}) runs inside {@code retry} instead, once per handling
 * attempt.
 *
 * <p>An interceptor runs on the thread that handles the delivery: a handler-pool thread for a
 * blocking handler, the transport's dispatch thread for an asynchronous one. It must not block in
 * the latter case, and never between {@code proceed()} returning and its stage completing.
 */
@FunctionalInterface
public interface DeliveryInterceptor {

  CompletionStage<Object> intercept(DeliveryInvocation invocation);

  /** The name {@link Subscription#describe()} shows; the class's simple name by default. */
  default String name() {
    String simple = getClass().getSimpleName();
    return simple.isEmpty() || simple.contains("$$Lambda") ? "interceptor" : simple;
  }
}
