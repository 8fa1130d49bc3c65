package dev.parley.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class DeadlineTimerTest {

  /** One timer for the class (its thread never ends, like the shared one's). */
  private static final DeadlineTimer timer = new DeadlineTimer("test-deadline-timer");

  @Test
  void firesADeadlineNotBeforeItIsDue() {
    CompletableFuture<Long> fired = new CompletableFuture<>();
    long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    timer.schedule(() -> fired.complete(System.nanoTime()), TimeUnit.MILLISECONDS.toNanos(50));

    assertThat(fired).succeedsWithin(Duration.ofSeconds(10));
    assertThat(fired.join() - due).isNotNegative();
  }

  @Test
  void aCancelledDeadlineNeverFires() {
    AtomicBoolean fired = new AtomicBoolean();
    DeadlineTimer.Task task =
        timer.schedule(() -> fired.set(true), TimeUnit.MILLISECONDS.toNanos(20));
    task.cancel();
    CompletableFuture<Void> later = new CompletableFuture<>();
    timer.schedule(() -> later.complete(null), TimeUnit.MILLISECONDS.toNanos(100));

    assertThat(later).succeedsWithin(Duration.ofSeconds(10)); // the timer passed the first one
    assertThat(fired).isFalse();
  }

  @Test
  void sleepsUntilItsEarliestDeadlineAndWakesForAnEarlierOne() {
    DeadlineTimer.Task far = timer.schedule(() -> {}, TimeUnit.SECONDS.toNanos(60));
    // With only a deadline a minute away it plans its longest sleep, not a tick ...
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> timer.plannedWakeNanos() - System.nanoTime() > DeadlineTimer.MAX_SLEEP_NANOS / 2);

    // ... and a deadline due well before that wakes it: this one fires long before the planned
    // wake-up (without the wake-up it would wait up to MAX_SLEEP_NANOS, a second).
    long start = System.nanoTime();
    CompletableFuture<Long> fired = new CompletableFuture<>();
    timer.schedule(() -> fired.complete(System.nanoTime()), TimeUnit.MILLISECONDS.toNanos(20));

    assertThat(fired).succeedsWithin(Duration.ofSeconds(10));
    assertThat(Duration.ofNanos(fired.join() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(20))
        .isLessThan(Duration.ofNanos(DeadlineTimer.MAX_SLEEP_NANOS / 2));
    far.cancel();
  }

  @Test
  void withNothingToTimeItSleepsUntilTheNextSchedule() {
    CompletableFuture<Void> first = new CompletableFuture<>();
    timer.schedule(() -> first.complete(null), 0);
    assertThat(first).succeedsWithin(Duration.ofSeconds(10));
    await().atMost(Duration.ofSeconds(10)).until(() -> timer.plannedWakeNanos() == Long.MAX_VALUE);

    CompletableFuture<Void> second = new CompletableFuture<>();
    timer.schedule(() -> second.complete(null), TimeUnit.MILLISECONDS.toNanos(5));
    assertThat(second).succeedsWithin(Duration.ofSeconds(10));
  }
}
