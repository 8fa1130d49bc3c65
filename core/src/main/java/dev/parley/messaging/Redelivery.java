package dev.parley.messaging;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The retry tiers of a subscription: a few immediate attempts with exponential backoff, then
 * delayed redeliveries through the broker, then the dead-letter channel. Immutable.
 *
 * <p>With {@code immediateAttempts = 3} and delays {@code [1s, 10s]}, a message that always fails
 * is attempted 3 times at once (backoff between), once more after 1 s, once more after 10 s, and
 * then dead-lettered: 5 attempts in all. On a partitioned channel the delays are waited in place,
 * so later messages of the same key never overtake a failing one.
 *
 * @param immediateAttempts attempts within one delivery, at least 1
 * @param backoff the wait before the first immediate retry, doubled before each further one
 * @param delays one delayed redelivery per entry, waited before that attempt
 */
public record Redelivery(int immediateAttempts, Duration backoff, List<Duration> delays) {

  public Redelivery {
    if (immediateAttempts < 1) {
      throw new IllegalArgumentException(
          "immediateAttempts: " + immediateAttempts + " (expected: > 0)");
    }
    Objects.requireNonNull(backoff, "backoff");
    if (backoff.isNegative()) {
      throw new IllegalArgumentException("backoff: " + backoff + " (expected: >= 0)");
    }
    delays = List.copyOf(delays);
    for (Duration d : delays) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("delay: " + d + " (expected: >= 0)");
      }
    }
  }

  /** 3 immediate attempts from 100 ms backoff, then redeliveries after 1 s and 10 s. */
  public static Redelivery defaults() {
    return of(3, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10));
  }

  /** A single attempt, then the dead-letter channel. */
  public static Redelivery none() {
    return of(1, Duration.ZERO);
  }

  public static Redelivery of(int immediateAttempts, Duration backoff, Duration... delays) {
    return new Redelivery(immediateAttempts, backoff, List.of(delays));
  }

  /** Attempts in all before a message is dead-lettered. */
  public int maxAttempts() {
    return immediateAttempts + delays.size();
  }

  /** The wait before immediate retry number {@code retry} (1-based). */
  Duration backoffBefore(int retry) {
    long factor = 1L << Math.min(retry - 1, 20);
    return backoff.multipliedBy(factor);
  }
}
