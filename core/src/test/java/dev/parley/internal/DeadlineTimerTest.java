package dev.parley.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DeadlineTimerTest {

  @Test
  void aDeadlineFiresAfterItsDelayAndNotWhenCancelled() {
    AtomicBoolean fired = new AtomicBoolean();
    AtomicBoolean cancelledFired = new AtomicBoolean();
    DeadlineTimer.Task cancelled =
        DeadlineTimer.SHARED.schedule(() -> cancelledFired.set(true), millis(20));
    cancelled.cancel();
    long start = System.nanoTime();
    DeadlineTimer.SHARED.schedule(() -> fired.set(true), millis(50));

    await().atMost(Duration.ofSeconds(5)).untilTrue(fired);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(millis(50));
    assertThat(cancelledFired).isFalse();
  }

  /**
   * A deadline's action completes a caller's future, and what the caller chained on it without an
   * executor runs with it. One that blocks must not hold up the other deadlines of the process:
   * before, actions ran on the ticking thread itself, and every later deadline (every call's, on
   * every transport and binding) waited behind the blocked one.
   */
  @Test
  void anActionThatBlocksHoldsUpNoOtherDeadline() throws Exception {
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<String> blockerThread = new AtomicReference<>();
    DeadlineTimer.SHARED.schedule(
        () -> {
          blockerThread.set(Thread.currentThread().getName());
          blocking.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        0);
    try {
      // The fault: an action is blocked.
      assertThat(blocking.await(5, TimeUnit.SECONDS)).isTrue();
      AtomicBoolean fired = new AtomicBoolean();
      AtomicReference<String> firedThread = new AtomicReference<>();
      DeadlineTimer.SHARED.schedule(
          () -> {
            firedThread.set(Thread.currentThread().getName());
            fired.set(true);
          },
          millis(20));

      await().atMost(Duration.ofSeconds(2)).untilTrue(fired);
      assertThat(release.getCount()).as("the first action is still blocked").isEqualTo(1);
      assertThat(blockerThread.get()).startsWith("parley-timeout-").isNotEqualTo(firedThread.get());
      assertThat(firedThread.get()).startsWith("parley-timeout-");
    } finally {
      release.countDown();
    }
  }

  private static long millis(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }
}
