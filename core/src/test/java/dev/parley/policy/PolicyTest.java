package dev.parley.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.error.TransportException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PolicyTest {

  private static final Duration OPEN_FOR = Duration.ofSeconds(30);

  private final TestClock clock = new TestClock();

  // ---- C1: the circuit breaker's state machine, exact, on a fake clock ----

  @Test
  void opensExactlyAtTheFailureThreshold() {
    Policy policy = breaker(50, 10, 3);
    for (int i = 0; i < 5; i++) {
      call(policy, ok());
    }
    for (int i = 0; i < 4; i++) {
      attempt(policy, failing(Code.UNAVAILABLE));
    }
    assertThat(policy.circuitState()).isEqualTo(CircuitState.CLOSED);

    attempt(policy, failing(Code.UNAVAILABLE)); // 5 of 10 failed: 50 %

    assertThat(policy.circuitState()).isEqualTo(CircuitState.OPEN);
  }

  @Test
  void staysClosedJustBelowTheThreshold() {
    Policy policy = breaker(50, 10, 3);
    for (int i = 0; i < 6; i++) {
      call(policy, ok());
    }

    for (int i = 0; i < 4; i++) {
      attempt(policy, failing(Code.INTERNAL));
    }

    assertThat(policy.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void makesNoCallsWhileOpen() {
    Policy policy = openBreaker(3);
    AtomicInteger backend = new AtomicInteger();

    for (int i = 0; i < 100; i++) {
      assertThatThrownBy(() -> call(policy, counting(backend)))
          .isInstanceOf(RejectedException.class)
          .extracting(e -> ((ParleyException) e).errorCode())
          .isEqualTo("parley.circuit_open");
    }
    clock.advance(OPEN_FOR.minusMillis(1));
    assertThatThrownBy(() -> call(policy, counting(backend))).isInstanceOf(RejectedException.class);

    assertThat(backend).hasValue(0);
    assertThat(policy.metrics().circuitOpen()).isEqualTo(101);
  }

  @Test
  void letsExactlyTheConfiguredProbesThroughWhenHalfOpen() {
    Policy policy = openBreaker(3);
    clock.advance(OPEN_FOR.plusMillis(1));
    AtomicInteger backend = new AtomicInteger();
    CompletableFuture<String> hold = new CompletableFuture<>();

    int admitted = 0;
    int refused = 0;
    for (int i = 0; i < 10; i++) {
      CompletableFuture<String> f =
          policy.execute(
              Policy.Call.IDEMPOTENT,
              d -> {
                backend.incrementAndGet();
                return hold;
              });
      if (f.isCompletedExceptionally()) {
        refused++;
      } else {
        admitted++;
      }
    }

    assertThat(policy.circuitState()).isEqualTo(CircuitState.HALF_OPEN);
    assertThat(admitted).isEqualTo(3);
    assertThat(refused).isEqualTo(7);
    assertThat(backend).hasValue(3);
    hold.complete("fine");
    assertThat(policy.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  @Test
  void reopensWhenTheProbesFail() {
    Policy policy = openBreaker(2);
    clock.advance(OPEN_FOR.plusMillis(1));

    attempt(policy, failing(Code.UNAVAILABLE));
    attempt(policy, failing(Code.UNAVAILABLE));

    assertThat(policy.circuitState()).isEqualTo(CircuitState.OPEN);
  }

  @Test
  void clientErrorsDoNotOpenTheCircuit() {
    Policy policy = breaker(50, 4, 1);

    for (int i = 0; i < 20; i++) {
      attempt(policy, failing(Code.INVALID_ARGUMENT));
      attempt(policy, failing(Code.NOT_FOUND));
    }

    assertThat(policy.circuitState()).isEqualTo(CircuitState.CLOSED);
  }

  // ---- C3: the rate limiter, exact per period ----

  @Test
  void admitsExactlyThePermitsOfOnePeriod() {
    Policy policy = Policy.builder().rateLimit(7, Duration.ofHours(1)).build();
    AtomicInteger backend = new AtomicInteger();

    int refused = 0;
    for (int i = 0; i < 20; i++) {
      try {
        call(policy, counting(backend));
      } catch (RejectedException e) {
        assertThat(e.errorCode()).isEqualTo("parley.rate_limited");
        assertThat(e.status().code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(e.retryAfter()).hasValueSatisfying(d -> assertThat(d).isPositive());
        refused++;
      }
    }

    assertThat(backend).hasValue(7);
    assertThat(refused).isEqualTo(13);
    assertThat(policy.metrics().rateLimited()).isEqualTo(13);
  }

  @Test
  void bulkheadRefusesCallsBeyondTheLimitInFlight() {
    Policy policy = Policy.builder().bulkhead(2).build();
    CompletableFuture<String> hold = new CompletableFuture<>();

    CompletableFuture<String> a = policy.execute(Policy.Call.IDEMPOTENT, d -> hold);
    CompletableFuture<String> b = policy.execute(Policy.Call.IDEMPOTENT, d -> hold);
    CompletableFuture<String> c = policy.execute(Policy.Call.IDEMPOTENT, d -> hold);

    assertThat(a).isNotDone();
    assertThat(b).isNotDone();
    assertThatThrownBy(c::join)
        .hasCauseInstanceOf(RejectedException.class)
        .hasMessageContaining("bulkhead");
    hold.complete("x");
    assertThat(call(policy, ok())).isEqualTo("ok");
  }

  // ---- C4: retries bounded and safe ----

  @Test
  void attemptsAreOneMoreThanTheFailuresUpToTheMaximum() {
    for (int failures = 0; failures <= 6; failures++) {
      Policy policy = retrying(4);
      AtomicInteger attempts = new AtomicInteger();
      int k = failures;

      try {
        call(
            policy,
            d ->
                attempts.incrementAndGet() <= k
                    ? CompletableFuture.failedFuture(unavailable())
                    : CompletableFuture.completedFuture("ok"));
      } catch (TransportException expected) {
        assertThat(k).isGreaterThanOrEqualTo(4);
      }

      assertThat(attempts).as("attempts after %d failures", k).hasValue(Math.min(k + 1, 4));
    }
  }

  @Test
  void neverRetriesANonIdempotentCallWithoutAKey() {
    Policy policy = retrying(5);
    AtomicInteger attempts = new AtomicInteger();

    assertThatThrownBy(
            () ->
                policy
                    .execute(
                        Policy.Call.NON_IDEMPOTENT,
                        d -> {
                          attempts.incrementAndGet();
                          return CompletableFuture.failedFuture(unavailable());
                        })
                    .get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(TransportException.class);

    assertThat(attempts).hasValue(1);
  }

  @Test
  void retriesANonIdempotentCallCarryingAnIdempotencyKey() throws Exception {
    Policy policy = retrying(3);
    AtomicInteger attempts = new AtomicInteger();

    String result =
        policy
            .execute(
                Policy.Call.NON_IDEMPOTENT.withIdempotencyKey("k-1"),
                d ->
                    attempts.incrementAndGet() < 3
                        ? CompletableFuture.failedFuture(unavailable())
                        : CompletableFuture.completedFuture("done"))
            .get(5, TimeUnit.SECONDS);

    assertThat(result).isEqualTo("done");
    assertThat(attempts).hasValue(3);
  }

  @Test
  void neverRetriesBadInputOrClientErrors() {
    Policy policy = retrying(5);
    for (Throwable failure :
        new Throwable[] {
          new BadInputException("parley.codec.malformed", "bad"),
          Status.of(Code.INVALID_ARGUMENT, "x", "bad").asException(),
          Status.of(Code.NOT_FOUND, "x", "gone").asException(),
          new DeadlineExceededException("late")
        }) {
      AtomicInteger attempts = new AtomicInteger();

      assertThatThrownBy(
              () ->
                  call(
                      policy,
                      d -> {
                        attempts.incrementAndGet();
                        return CompletableFuture.failedFuture(failure);
                      }))
          .isSameAs(failure);

      assertThat(attempts).as(failure.toString()).hasValue(1);
    }
  }

  @Test
  void backoffStaysWithinItsJitteredExponentialBand() {
    Policy policy =
        Policy.builder()
            .retry(6, Duration.ofMillis(100), Duration.ofMillis(1000))
            .retryJitter(0.2)
            .build();

    for (int i = 0; i < 1000; i++) {
      for (int n = 1; n <= 5; n++) {
        double base = Math.min(100 * Math.pow(2, n - 1), 1000);
        assertThat(policy.backoff(n).toMillis())
            .as("retry %d", n)
            .isBetween((long) Math.floor(base * 0.8), (long) Math.ceil(base * 1.2));
      }
    }
  }

  @Test
  void retryBudgetHoldsInATotalOutage() {
    Policy policy =
        Policy.builder()
            .retry(5, Duration.ofMillis(1), Duration.ofMillis(1))
            .retryBudget(0.2, 1)
            .clock(clock)
            .build();
    AtomicInteger attempts = new AtomicInteger();

    for (int i = 0; i < 500; i++) {
      try {
        call(
            policy,
            d -> {
              attempts.incrementAndGet();
              return CompletableFuture.failedFuture(unavailable());
            });
      } catch (TransportException expected) {
        // the outage
      }
    }

    // 500 calls in one second of a 10 s window: retries <= 20 % of 500 + 1/s × 10 s
    long retries = attempts.get() - 500L;
    assertThat(retries).isLessThanOrEqualTo(110).isGreaterThanOrEqualTo(100);
    assertThat(policy.metrics().retriesRefused()).isGreaterThan(0);
  }

  // ---- deadlines ----

  @Test
  void failsAtTheDeadlineAndCancelsTheAttempt() {
    Policy policy = Policy.builder().deadline(Duration.ofMillis(100)).build();
    CompletableFuture<String> never = new CompletableFuture<>();

    assertThatThrownBy(() -> policy.execute(Policy.Call.IDEMPOTENT, d -> never).join())
        .hasCauseInstanceOf(DeadlineExceededException.class);

    // The call fails at the deadline first; the attempt is cancelled right after, maybe on the
    // timer's thread (under load the assertion used to run in between).
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(never::isCancelled);
    assertThat(policy.metrics().deadlineExceeded()).isEqualTo(1);
  }

  @Test
  void inheritsTheShorterDeadlineOfTheCurrentCall() {
    Policy policy = Policy.builder().deadline(Duration.ofSeconds(30)).build();
    Deadline[] seen = new Deadline[1];

    try (Deadline.Scope scope = Deadline.after(Duration.ofSeconds(2)).attach()) {
      call(
          policy,
          d -> {
            seen[0] = d;
            return CompletableFuture.completedFuture("ok");
          });
    }

    assertThat(seen[0].remaining()).isLessThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(Deadline.current()).isEmpty();
  }

  @Test
  void describesThePipelineInItsFixedOrder() {
    Policy policy =
        Policy.builder()
            .name("kitchen")
            .bulkhead(8)
            .rateLimit(100, Duration.ofSeconds(1))
            .circuitBreaker(50, 20, Duration.ofSeconds(5), 3)
            .retry(3, Duration.ofMillis(50), Duration.ofSeconds(1))
            .deadline(Duration.ofSeconds(2))
            .build();

    assertThat(policy.describe())
        .startsWith("kitchen: deadline(2000 ms")
        .containsSubsequence(
            "deadline",
            "retry(max 3 attempts",
            "circuitBreaker(opens at 50%",
            "rateLimit(100 per 1000 ms)",
            "bulkhead(8 in flight)",
            "call");
  }

  // ---- helpers ----

  private Policy breaker(int percent, int window, int probes) {
    return Policy.builder().circuitBreaker(percent, window, OPEN_FOR, probes).clock(clock).build();
  }

  private Policy openBreaker(int probes) {
    Policy policy = breaker(100, 2, probes);
    attempt(policy, failing(Code.UNAVAILABLE));
    attempt(policy, failing(Code.UNAVAILABLE));
    assertThat(policy.circuitState()).isEqualTo(CircuitState.OPEN);
    return policy;
  }

  private Policy retrying(int maxAttempts) {
    return Policy.builder()
        .retry(maxAttempts, Duration.ofMillis(1), Duration.ofMillis(2))
        .retryBudget(1.0, 1000)
        .build();
  }

  private static String call(
      Policy policy, java.util.function.Function<Deadline, CompletableFuture<String>> attempt) {
    try {
      return policy.execute(Policy.Call.IDEMPOTENT, attempt).get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new CompletionException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** One call whose failure is expected and ignored. */
  private static void attempt(
      Policy policy, java.util.function.Function<Deadline, CompletableFuture<String>> attempt) {
    try {
      call(policy, attempt);
    } catch (RuntimeException expected) {
      // counted by the breaker
    }
  }

  private static java.util.function.Function<Deadline, CompletableFuture<String>> ok() {
    return d -> CompletableFuture.completedFuture("ok");
  }

  private static java.util.function.Function<Deadline, CompletableFuture<String>> failing(
      Code code) {
    return d -> CompletableFuture.failedFuture(Status.of(code, "test." + code, "x").asException());
  }

  private static java.util.function.Function<Deadline, CompletableFuture<String>> counting(
      AtomicInteger backend) {
    return d -> {
      backend.incrementAndGet();
      return CompletableFuture.completedFuture("ok");
    };
  }

  private static TransportException unavailable() {
    return new TransportException("test.down", "backend down", null);
  }
}
