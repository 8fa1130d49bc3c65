package dev.parley.policy;

import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.internal.DeadlineTimer;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * One resilience model, applied the same way to an RPC call, a publish and a consumer. The stages
 * are always composed in this order, outermost first:
 *
 * <ol>
 *   <li><b>deadline</b> — the whole call, retries and backoff included, ends by the earliest of the
 *       policy's deadline, the call's own and the {@linkplain Deadline#current() inherited} one;
 *       each attempt is handed the deadline so the transport can send the remaining time on;
 *   <li><b>retry</b> — exponential backoff with jitter, only for calls that are idempotent or carry
 *       an idempotency key, only for retryable failures, and only while the retry budget lasts;
 *   <li><b>circuit breaker</b> — fails fast while the backend is failing; client errors (bad input,
 *       4xx) and local refusals do not count as failures;
 *   <li><b>rate limit</b> — refuses calls over {@code permits} per period, with a retry-after;
 *   <li><b>bulkhead</b> — refuses calls over a number in flight;
 *   <li>the call.
 * </ol>
 *
 * Refusals fail with {@link RejectedException} ({@code parley.circuit_open}, {@code
 * parley.rate_limited}, {@code parley.bulkhead_full}) and are never retried; a passed deadline
 * fails with {@link DeadlineExceededException}. {@link #describe()} prints the composed pipeline.
 *
 * <pre>{@code
 * Policy policy = Policy.builder()
 *     .deadline(Duration.ofSeconds(2))
 *     .retry(3, Duration.ofMillis(50), Duration.ofSeconds(1))
 *     .circuitBreaker(50, 20, Duration.ofSeconds(5), 3)
 *     .rateLimit(100, Duration.ofSeconds(1))
 *     .bulkhead(32)
 *     .build();
 * }</pre>
 *
 * Resilience4j does the work underneath; none of its types appear here. One policy instance holds
 * one breaker, limiter and bulkhead: share it among the calls that should share their state (one
 * backend), not among unrelated backends. Thread-safe.
 */
public final class Policy {

  private static final Policy NONE = builder().name("none").build();

  private final String name;
  private final Duration deadline;
  private final Retry retry;
  private final RetryBudget budget;
  private final String retryText;
  private final IntervalFunction backoff;
  private final CircuitBreaker breaker;
  private final String breakerText;
  private final RateLimiter rateLimiter;
  private final String rateText;
  private final Bulkhead bulkhead;
  private final ScheduledExecutorService scheduler;
  private final Metrics metrics = new Metrics();

  private Policy(Builder b) {
    this.name = b.name;
    this.deadline = b.deadline;
    this.scheduler = b.scheduler != null ? b.scheduler : Timer.INSTANCE;
    if (b.maxAttempts > 1) {
      this.backoff =
          IntervalFunction.ofExponentialRandomBackoff(
              b.initialBackoff, 2.0, b.jitter, b.maxBackoff);
      this.budget = new RetryBudget(b.budgetRatio, b.budgetMinPerSecond, b.clock);
      this.retry =
          Retry.of(
              name,
              RetryConfig.custom()
                  .maxAttempts(b.maxAttempts)
                  .intervalBiFunction(
                      (attempt, outcome) -> {
                        long millis = backoff.apply(attempt);
                        if (outcome.isLeft()
                            && unwrap(outcome.getLeft()) instanceof ParleyException p) {
                          long after =
                              RejectedException.retryAfterOf(p.status())
                                  .orElse(Duration.ZERO)
                                  .toMillis();
                          millis = Math.max(millis, after);
                        }
                        return millis;
                      })
                  .retryOnException(this::mayRetry)
                  .failAfterMaxAttempts(false)
                  .build());
      this.retryText =
          "retry(max "
              + b.maxAttempts
              + " attempts, backoff "
              + b.initialBackoff.toMillis()
              + " ms ×2 up to "
              + b.maxBackoff.toMillis()
              + " ms, jitter ±"
              + Math.round(b.jitter * 100)
              + "%, budget "
              + budget
              + ", idempotent calls only)";
    } else {
      this.backoff = null;
      this.budget = null;
      this.retry = null;
      this.retryText = null;
    }
    if (b.failureRatePercent > 0) {
      this.breaker =
          CircuitBreaker.of(
              name,
              CircuitBreakerConfig.custom()
                  .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                  .slidingWindowSize(b.windowCalls)
                  .minimumNumberOfCalls(b.windowCalls)
                  .failureRateThreshold(b.failureRatePercent)
                  .waitDurationInOpenState(b.openFor)
                  .permittedNumberOfCallsInHalfOpenState(b.halfOpenProbes)
                  .recordException(Policy::countsAsFailure)
                  .clock(b.clock)
                  .writableStackTraceEnabled(false)
                  .build());
      this.breakerText =
          "circuitBreaker(opens at "
              + b.failureRatePercent
              + "% failed of the last "
              + b.windowCalls
              + " calls, open "
              + b.openFor.toMillis()
              + " ms, "
              + b.halfOpenProbes
              + " half-open probes)";
    } else {
      this.breaker = null;
      this.breakerText = null;
    }
    if (b.permits > 0) {
      this.rateLimiter =
          RateLimiter.of(
              name,
              RateLimiterConfig.custom()
                  .limitForPeriod(b.permits)
                  .limitRefreshPeriod(b.period)
                  .timeoutDuration(Duration.ZERO)
                  .writableStackTraceEnabled(false)
                  .build());
      this.rateText = "rateLimit(" + b.permits + " per " + b.period.toMillis() + " ms)";
    } else {
      this.rateLimiter = null;
      this.rateText = null;
    }
    this.bulkhead =
        b.maxConcurrent > 0
            ? Bulkhead.of(
                name,
                BulkheadConfig.custom()
                    .maxConcurrentCalls(b.maxConcurrent)
                    .maxWaitDuration(Duration.ZERO)
                    .writableStackTraceEnabled(false)
                    .build())
            : null;
  }

  /** A builder; every stage is off until configured. */
  public static Builder builder() {
    return new Builder();
  }

  /** The policy with no stages: calls pass straight through. */
  public static Policy none() {
    return NONE;
  }

  public String name() {
    return name;
  }

  /**
   * Runs one call through the pipeline. {@code attempt} is invoked once per attempt with the call's
   * deadline (pass its remaining time to the transport); it must not block.
   *
   * @return a future completing with the first successful attempt's result, or failing with the
   *     last failure, a {@link RejectedException} or a {@link DeadlineExceededException}
   */
  public <T> CompletableFuture<T> execute(
      Call call, Function<Deadline, ? extends CompletionStage<T>> attempt) {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(attempt, "attempt");
    metrics.calls.increment();
    Deadline effective = effectiveDeadline(call);
    if (effective != null && effective.isExpired()) {
      metrics.deadlineExceeded.increment();
      return CompletableFuture.failedFuture(
          new DeadlineExceededException("deadline passed before the call started"));
    }
    CallFuture<T> result = new CallFuture<>();
    if (effective != null) {
      result.timer =
          DeadlineTimer.SHARED.schedule(result, Math.max(0, effective.remaining().toNanos()));
    }
    if (retry != null && call.isRetryable()) {
      budget.deposit();
      retry
          .executeCompletionStage(scheduler, () -> guardedAttempt(effective, attempt, result))
          .whenComplete(result::finish);
      return result;
    }
    // one attempt: the call's future is also the attempt's callback, to allocate little
    metrics.attempts.increment();
    RuntimeException refused = admitAttempt(effective);
    if (refused != null) {
      result.finish(null, refused);
      return result;
    }
    result.attemptStart = breaker == null ? 0 : breaker.getCurrentTimestamp();
    CompletionStage<T> stage = apply(attempt, effective);
    result.inFlight = stage.toCompletableFuture();
    stage.whenComplete(result);
    return result;
  }

  /** One attempt of a retried call, with its own breaker, rate-limit and bulkhead bookkeeping. */
  private <T> CompletableFuture<T> guardedAttempt(
      Deadline deadline,
      Function<Deadline, ? extends CompletionStage<T>> attempt,
      CallFuture<T> call) {
    metrics.attempts.increment();
    RuntimeException refused = admitAttempt(deadline);
    if (refused != null) {
      return CompletableFuture.failedFuture(refused);
    }
    long start = breaker == null ? 0 : breaker.getCurrentTimestamp();
    CompletableFuture<T> stage = apply(attempt, deadline).toCompletableFuture();
    call.inFlight = stage;
    return stage.whenComplete((value, failure) -> endAttempt(start, failure));
  }

  private static <T> CompletionStage<T> apply(
      Function<Deadline, ? extends CompletionStage<T>> attempt, Deadline deadline) {
    try {
      return Objects.requireNonNull(attempt.apply(deadline), "attempt returned null");
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    }
  }

  /**
   * Passes an attempt through the breaker, the rate limit and the bulkhead, taking their permits:
   * null when admitted, else the refusal (permits taken so far are given back).
   */
  private RuntimeException admitAttempt(Deadline deadline) {
    if (deadline != null && deadline.isExpired()) {
      return new DeadlineExceededException("deadline passed before the attempt started");
    }
    if (breaker != null && !breaker.tryAcquirePermission()) {
      metrics.circuitOpen.increment();
      return new RejectedException("parley.circuit_open", "circuit breaker " + name + " is open");
    }
    if (rateLimiter != null && !rateLimiter.acquirePermission()) {
      if (breaker != null) {
        breaker.releasePermission();
      }
      metrics.rateLimited.increment();
      return new RejectedException(
          "parley.rate_limited", "rate limit of " + name + " reached", retryAfter());
    }
    if (bulkhead != null && !bulkhead.tryAcquirePermission()) {
      if (breaker != null) {
        breaker.releasePermission();
      }
      metrics.bulkheadFull.increment();
      return new RejectedException("parley.bulkhead_full", "bulkhead of " + name + " is full");
    }
    return null;
  }

  /** Gives back an admitted attempt's bulkhead permit and tells the breaker how it went. */
  private void endAttempt(long start, Throwable failure) {
    if (bulkhead != null) {
      bulkhead.onComplete();
    }
    if (breaker != null) {
      long took = breaker.getCurrentTimestamp() - start;
      if (failure == null) {
        breaker.onSuccess(took, breaker.getTimestampUnit());
      } else {
        breaker.onError(took, breaker.getTimestampUnit(), unwrap(failure));
      }
    }
  }

  /**
   * The future {@link #execute} returns. Only the pipeline completes it (callers get {@link
   * UnsupportedOperationException}); cancelling it cancels the attempt in flight. It is also the
   * deadline's action and the single attempt's callback, so a call allocates few objects.
   */
  private final class CallFuture<T> extends CompletableFuture<T>
      implements java.util.function.BiConsumer<T, Throwable>, Runnable {
    DeadlineTimer.Task timer;
    volatile CompletableFuture<?> inFlight;

    /** Set for a single attempt: {@link #accept} then ends its bookkeeping. */
    long attemptStart = -1;

    /** The deadline passed. */
    @Override
    public void run() {
      if (super.completeExceptionally(new DeadlineExceededException("deadline exceeded"))) {
        metrics.deadlineExceeded.increment();
        CompletableFuture<?> f = inFlight;
        if (f != null) {
          f.cancel(false);
        }
      }
    }

    /** The single attempt completed. */
    @Override
    public void accept(T value, Throwable failure) {
      if (attemptStart >= 0) {
        endAttempt(attemptStart, failure);
      }
      finish(value, failure);
    }

    void finish(T value, Throwable failure) {
      DeadlineTimer.Task t = timer;
      if (t != null) {
        t.cancel();
      }
      if (failure == null) {
        super.complete(value);
        return;
      }
      Throwable cause = unwrap(failure);
      if (cause instanceof DeadlineExceededException && !isDone()) {
        metrics.deadlineExceeded.increment();
      }
      super.completeExceptionally(cause);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      if (cancelled) {
        DeadlineTimer.Task t = timer;
        if (t != null) {
          t.cancel();
        }
        CompletableFuture<?> f = inFlight;
        if (f != null) {
          f.cancel(false);
        }
      }
      return cancelled;
    }

    @Override
    public boolean complete(T value) {
      throw new UnsupportedOperationException("completed by the policy only");
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      throw new UnsupportedOperationException("completed by the policy only");
    }

    @Override
    public void obtrudeValue(T value) {
      throw new UnsupportedOperationException("completed by the policy only");
    }

    @Override
    public void obtrudeException(Throwable ex) {
      throw new UnsupportedOperationException("completed by the policy only");
    }

    @Override
    public CompletableFuture<T> orTimeout(long timeout, TimeUnit unit) {
      return copy().orTimeout(timeout, unit);
    }

    @Override
    public CompletableFuture<T> completeOnTimeout(T value, long timeout, TimeUnit unit) {
      return copy().completeOnTimeout(value, timeout, unit);
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new CompletableFuture<>();
    }
  }

  private Duration retryAfter() {
    long nanos =
        rateLimiter instanceof AtomicRateLimiter atomic
            ? atomic.getDetailedMetrics().getNanosToWait()
            : rateLimiter.getRateLimiterConfig().getLimitRefreshPeriod().toNanos();
    return Duration.ofMillis(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos) + 1));
  }

  /**
   * Runs a message handler under this policy, on the calling (consumer) thread: waits for a
   * rate-limit permit (a consumer is throttled, not refused), refuses with {@link
   * RejectedException} while the circuit is open or the bulkhead is full, and records the outcome
   * in the breaker. The retry stage does not apply: a consumer's redelivery tiers retry instead.
   *
   * @param deadline when to stop waiting for a permit, or null to wait as long as needed
   */
  public <T> T executeBlocking(Deadline deadline, java.util.concurrent.Callable<T> work)
      throws Exception {
    metrics.calls.increment();
    metrics.attempts.increment();
    if (rateLimiter != null) {
      while (!rateLimiter.acquirePermission()) {
        if (deadline != null && deadline.isExpired()) {
          metrics.rateLimited.increment();
          throw new RejectedException(
              "parley.rate_limited", "rate limit of " + name + " reached", retryAfter());
        }
        long wait = retryAfter().toNanos();
        if (deadline != null) {
          wait = Math.min(wait, Math.max(1, deadline.remaining().toNanos()));
        }
        java.util.concurrent.locks.LockSupport.parkNanos(wait);
        if (Thread.interrupted()) {
          Thread.currentThread().interrupt();
          throw new InterruptedException("waiting for a permit of " + name);
        }
      }
    }
    if (breaker != null && !breaker.tryAcquirePermission()) {
      metrics.circuitOpen.increment();
      throw new RejectedException("parley.circuit_open", "circuit breaker " + name + " is open");
    }
    if (bulkhead != null && !bulkhead.tryAcquirePermission()) {
      if (breaker != null) {
        breaker.releasePermission();
      }
      metrics.bulkheadFull.increment();
      throw new RejectedException("parley.bulkhead_full", "bulkhead of " + name + " is full");
    }
    long start = breaker == null ? 0 : breaker.getCurrentTimestamp();
    try {
      T result = work.call();
      if (breaker != null) {
        breaker.onSuccess(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit());
      }
      return result;
    } catch (Throwable t) {
      if (breaker != null) {
        breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), t);
      }
      throw t;
    } finally {
      if (bulkhead != null) {
        bulkhead.onComplete();
      }
    }
  }

  /**
   * Guards one server-side call with this policy's rate limit and bulkhead only (a server neither
   * retries nor breaks its own circuit): empty when admitted, else the refusal to answer with. Call
   * {@code release} when the admitted call completes.
   */
  public java.util.Optional<RejectedException> admit() {
    if (rateLimiter != null && !rateLimiter.acquirePermission()) {
      metrics.rateLimited.increment();
      return java.util.Optional.of(
          new RejectedException(
              "parley.rate_limited", "rate limit of " + name + " reached", retryAfter()));
    }
    if (bulkhead != null && !bulkhead.tryAcquirePermission()) {
      metrics.bulkheadFull.increment();
      return java.util.Optional.of(
          new RejectedException("parley.bulkhead_full", "bulkhead of " + name + " is full"));
    }
    return java.util.Optional.empty();
  }

  /** Ends a call {@link #admit()} let in. */
  public void release() {
    if (bulkhead != null) {
      bulkhead.onComplete();
    }
  }

  private boolean mayRetry(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (!isRetryable(cause)) {
      return false;
    }
    if (!budget.tryWithdraw()) {
      metrics.retriesRefused.increment();
      return false;
    }
    metrics.retries.increment();
    return true;
  }

  private Deadline effectiveDeadline(Call call) {
    Deadline d = deadline == null ? null : Deadline.after(deadline);
    if (call.deadline() != null) {
      d = d == null ? call.deadline() : d.min(call.deadline());
    }
    Deadline inherited = Deadline.current().orElse(null);
    if (inherited != null) {
      d = d == null ? inherited : d.min(inherited);
    }
    return d;
  }

  /** The circuit breaker's state; {@link CircuitState#DISABLED} when the policy has none. */
  public CircuitState circuitState() {
    if (breaker == null) {
      return CircuitState.DISABLED;
    }
    return switch (breaker.getState()) {
      case CLOSED -> CircuitState.CLOSED;
      case OPEN, FORCED_OPEN -> CircuitState.OPEN;
      case HALF_OPEN -> CircuitState.HALF_OPEN;
      default -> CircuitState.DISABLED;
    };
  }

  /** A snapshot of this policy's counters. */
  public PolicyMetrics metrics() {
    return new PolicyMetrics(
        metrics.calls.sum(),
        metrics.attempts.sum(),
        metrics.retries.sum(),
        metrics.retriesRefused.sum(),
        metrics.circuitOpen.sum(),
        metrics.rateLimited.sum(),
        metrics.bulkheadFull.sum(),
        metrics.deadlineExceeded.sum());
  }

  /** The backoff before retry {@code n} (1-based), jitter applied; for tests and docs. */
  Duration backoff(int n) {
    return backoff == null ? Duration.ZERO : Duration.ofMillis(backoff.apply(n));
  }

  /**
   * The composed pipeline in order, outermost first, e.g. {@code deadline(2000 ms) → retry(…) →
   * circuitBreaker(…) → rateLimit(…) → bulkhead(…) → call}.
   */
  public String describe() {
    List<String> stages = new ArrayList<>();
    if (deadline != null) {
      stages.add("deadline(" + deadline.toMillis() + " ms, or less if inherited)");
    } else {
      stages.add("deadline(inherited or per call)");
    }
    if (retryText != null) {
      stages.add(retryText);
    }
    if (breakerText != null) {
      stages.add(breakerText);
    }
    if (rateText != null) {
      stages.add(rateText);
    }
    if (bulkhead != null) {
      stages.add(
          "bulkhead(" + bulkhead.getBulkheadConfig().getMaxConcurrentCalls() + " in flight)");
    }
    stages.add("call");
    return name + ": " + String.join(" → ", stages);
  }

  @Override
  public String toString() {
    return describe();
  }

  /** Whether a failure may succeed when the same call is tried again. */
  private static boolean isRetryable(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof ParleyException p) {
      return p.isRetryable();
    }
    return false;
  }

  /** Whether a failure says the backend is unwell (it counts towards opening the circuit). */
  static boolean countsAsFailure(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof RejectedException
        || cause instanceof BadInputException
        || cause instanceof CancellationException) {
      return false;
    }
    if (cause instanceof ParleyException p) {
      Code code = p.status().code();
      return code.isRetryable() || code == Code.DEADLINE_EXCEEDED;
    }
    return true;
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  /**
   * What the pipeline needs to know about one call. Retries happen only for {@linkplain
   * #isRetryable() retryable} calls: idempotent ones, or ones carrying an idempotency key the
   * server deduplicates on.
   *
   * @param idempotent whether the operation may be repeated safely
   * @param idempotencyKey a key the server deduplicates on, or {@code null}
   * @param deadline this call's own deadline, or {@code null}
   */
  public record Call(boolean idempotent, String idempotencyKey, Deadline deadline) {

    /** A call of an idempotent operation, with no deadline of its own. */
    public static final Call IDEMPOTENT = new Call(true, null, null);

    /** A call of a non-idempotent operation without an idempotency key: never retried. */
    public static final Call NON_IDEMPOTENT = new Call(false, null, null);

    public static Call of(boolean idempotent) {
      return idempotent ? IDEMPOTENT : NON_IDEMPOTENT;
    }

    public Call withIdempotencyKey(String key) {
      return new Call(idempotent, Objects.requireNonNull(key, "key"), deadline);
    }

    public Call withDeadline(Deadline deadline) {
      return new Call(idempotent, idempotencyKey, deadline);
    }

    public boolean isRetryable() {
      return idempotent || idempotencyKey != null;
    }
  }

  /** Configures a {@link Policy}; each stage is off until set. Not thread-safe. */
  public static final class Builder {
    private String name = "policy";
    private Duration deadline;
    private int maxAttempts = 1;
    private Duration initialBackoff = Duration.ofMillis(50);
    private Duration maxBackoff = Duration.ofSeconds(2);
    private double jitter = 0.2;
    private double budgetRatio = 0.2;
    private int budgetMinPerSecond = 10;
    private int failureRatePercent;
    private int windowCalls;
    private Duration openFor;
    private int halfOpenProbes;
    private int permits;
    private Duration period;
    private int maxConcurrent;
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;

    private Builder() {}

    /** Names the policy in errors, logs and {@link #describe()}. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Every call ends within {@code timeout}, retries and backoff included. */
    public Builder deadline(Duration timeout) {
      this.deadline = positive(timeout, "deadline");
      return this;
    }

    /**
     * Retries retryable failures of retryable calls, up to {@code maxAttempts} attempts in all,
     * waiting {@code initialBackoff} × 2<sup>n−1</sup> (capped at {@code maxBackoff}, ± the jitter)
     * before retry n, or the server's retry-after if longer.
     */
    public Builder retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: > 0)");
      }
      this.maxAttempts = maxAttempts;
      this.initialBackoff = positive(initialBackoff, "initialBackoff");
      this.maxBackoff = positive(maxBackoff, "maxBackoff");
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException(
            "maxBackoff: " + maxBackoff + " (expected: >= initialBackoff " + initialBackoff + ")");
      }
      return this;
    }

    /** The backoff's random spread, 0 (none) to 1 (±100 %); 0.2 by default. */
    public Builder retryJitter(double jitter) {
      if (!(jitter >= 0 && jitter < 1)) {
        throw new IllegalArgumentException("jitter: " + jitter + " (expected: 0 <= jitter < 1)");
      }
      this.jitter = jitter;
      return this;
    }

    /**
     * Over any 10 s, retries stay within {@code ratio} of the calls plus {@code minPerSecond} per
     * second; 20 % + 10/s by default.
     */
    public Builder retryBudget(double ratio, int minPerSecond) {
      if (!(ratio >= 0) || minPerSecond < 0) {
        throw new IllegalArgumentException(
            "retryBudget: " + ratio + ", " + minPerSecond + " (expected: ratio >= 0, min >= 0)");
      }
      this.budgetRatio = ratio;
      this.budgetMinPerSecond = minPerSecond;
      return this;
    }

    /**
     * Opens the circuit when at least {@code failureRatePercent} of the last {@code windowCalls}
     * calls failed (evaluated once {@code windowCalls} calls were seen); stays open {@code
     * openFor}, then lets {@code halfOpenProbes} calls through and closes if enough of them
     * succeed.
     */
    public Builder circuitBreaker(
        int failureRatePercent, int windowCalls, Duration openFor, int halfOpenProbes) {
      if (failureRatePercent < 1 || failureRatePercent > 100) {
        throw new IllegalArgumentException(
            "failureRatePercent: " + failureRatePercent + " (expected: 1..100)");
      }
      if (windowCalls < 1 || halfOpenProbes < 1) {
        throw new IllegalArgumentException(
            "windowCalls: "
                + windowCalls
                + ", halfOpenProbes: "
                + halfOpenProbes
                + " (expected: > 0)");
      }
      this.failureRatePercent = failureRatePercent;
      this.windowCalls = windowCalls;
      this.openFor = positive(openFor, "openFor");
      this.halfOpenProbes = halfOpenProbes;
      return this;
    }

    /** Lets at most {@code permits} calls start per {@code period}; others are refused at once. */
    public Builder rateLimit(int permits, Duration period) {
      if (permits < 1) {
        throw new IllegalArgumentException("permits: " + permits + " (expected: > 0)");
      }
      this.permits = permits;
      this.period = positive(period, "period");
      return this;
    }

    /** Lets at most {@code maxConcurrent} calls be in flight; others are refused at once. */
    public Builder bulkhead(int maxConcurrent) {
      if (maxConcurrent < 1) {
        throw new IllegalArgumentException("maxConcurrent: " + maxConcurrent + " (expected: > 0)");
      }
      this.maxConcurrent = maxConcurrent;
      return this;
    }

    /** The clock of the circuit breaker and the retry budget; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Where retry backoffs are timed; a shared daemon timer by default. (Deadlines fire on a shared
     * ticking timer thread, within 2 ms of being due.)
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public Policy build() {
      return new Policy(this);
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + ": " + d + " (expected: > 0)");
      }
      return d;
    }
  }

  private static final class Metrics {
    final LongAdder calls = new LongAdder();
    final LongAdder attempts = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder retriesRefused = new LongAdder();
    final LongAdder circuitOpen = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder bulkheadFull = new LongAdder();
    final LongAdder deadlineExceeded = new LongAdder();
  }

  /** One daemon thread times every policy's deadlines and backoffs unless told otherwise. */
  private static final class Timer {
    static final ScheduledExecutorService INSTANCE = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor timer =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "parley-policy-timer");
                t.setDaemon(true);
                return t;
              });
      // a finished call cancels its deadline timer: drop it now, not when it would have fired
      timer.setRemoveOnCancelPolicy(true);
      return timer;
    }
  }
}
