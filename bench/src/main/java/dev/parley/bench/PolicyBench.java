package dev.parley.bench;

import dev.parley.policy.Policy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of the policy pipeline around a call that completes at once: an undecorated call vs
 * deadline + rate limit + circuit breaker (the BENCHMARKS.md pair), and each stage alone. Run with
 * {@code -prof gc} for bytes allocated per call.
 *
 * <pre>
 * ./mvnw -q -pl bench exec:exec -Dbench.args="PolicyBench -prof gc"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class PolicyBench {

  private static final CompletableFuture<String> DONE = CompletableFuture.completedFuture("ok");

  private final Policy full = deadlineRateLimitBreaker("bench");
  private final Policy deadlineOnly = Policy.builder().deadline(Duration.ofSeconds(10)).build();
  private final Policy breakerOnly =
      Policy.builder().circuitBreaker(50, 100, Duration.ofSeconds(5), 5).build();
  private final Policy rateOnly =
      Policy.builder().rateLimit(1_000_000_000, Duration.ofSeconds(1)).build();

  /**
   * The BENCHMARKS.md pipeline: a 10 s deadline, a rate limit that never refuses, a circuit breaker
   * that never opens on these calls. Every policy pair of the benchmarks and the lab uses it.
   */
  public static Policy deadlineRateLimitBreaker(String name) {
    return Policy.builder()
        .name(name)
        .deadline(Duration.ofSeconds(10))
        .rateLimit(1_000_000_000, Duration.ofSeconds(1))
        .circuitBreaker(50, 100, Duration.ofSeconds(5), 5)
        .build();
  }

  @Benchmark
  public String undecorated() {
    return call().join();
  }

  @Benchmark
  public String deadlineRateLimitBreaker() {
    return full.execute(Policy.Call.IDEMPOTENT, d -> call()).join();
  }

  @Benchmark
  public String deadline() {
    return deadlineOnly.execute(Policy.Call.IDEMPOTENT, d -> call()).join();
  }

  @Benchmark
  public String breaker() {
    return breakerOnly.execute(Policy.Call.IDEMPOTENT, d -> call()).join();
  }

  @Benchmark
  public String rateLimit() {
    return rateOnly.execute(Policy.Call.IDEMPOTENT, d -> call()).join();
  }

  private static CompletableFuture<String> call() {
    return DONE;
  }
}
