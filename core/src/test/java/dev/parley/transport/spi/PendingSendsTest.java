package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PendingSendsTest {

  private static final class TestSend extends PendingSends.Send {
    TestSend(Duration timeout) {
      super(timeout);
    }
  }

  private final ConcurrentLinkedQueue<TestSend> failed = new ConcurrentLinkedQueue<>();
  private final PendingSends<TestSend> sends =
      new PendingSends<>(
          "no answer",
          (s, e) -> {
            failed.add(s);
            s.future().completeExceptionally(e);
          });

  @Test
  void aSendNotAnsweredInTimeFailsWithTheSendTimeoutCodeAndIsRemoved() {
    TestSend send = new TestSend(Duration.ofMillis(20));
    sends.put(1, send);

    await().atMost(Duration.ofSeconds(5)).until(send.future()::isDone);

    assertThat(send.future())
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> {
              assertThat(e.status().errorCode()).isEqualTo(Transport.SEND_TIMEOUT);
              assertThat(e).hasMessageContaining("no answer in time");
            });
    assertThat(sends.size()).isZero();
    assertThat(sends.remove(1)).isNull(); // an answer coming later finds nothing to complete
  }

  @Test
  void aSendAnsweredInTimeIsNotFailedAndTheTimerMovesOnToTheNextOne() {
    TestSend answered = new TestSend(Duration.ofMillis(50));
    TestSend unanswered = new TestSend(Duration.ofMillis(100));
    sends.put(1, answered);
    sends.put(2, unanswered);
    assertThat(sends.remove(1)).isSameAs(answered);
    answered.future().complete(null);

    await().atMost(Duration.ofSeconds(5)).until(unanswered.future()::isDone);

    assertThat(answered.future()).isCompletedWithValue(null);
    assertThat(unanswered.future()).isCompletedExceptionally();
    assertThat(failed).containsExactly(unanswered);
  }

  @Test
  void theTimerIsArmedAgainForSendsAddedAfterItFired() {
    TestSend first = new TestSend(Duration.ofMillis(10));
    sends.put(1, first);
    await().atMost(Duration.ofSeconds(5)).until(first.future()::isDone);

    TestSend second = new TestSend(Duration.ofMillis(10));
    sends.put(2, second);

    await().atMost(Duration.ofSeconds(5)).until(second.future()::isDone);
    assertThat(failed).containsExactly(first, second);
  }

  @Test
  void removeUpToTakesTheOldestSendsInOrder() {
    List<TestSend> all = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      TestSend s = new TestSend(Duration.ofMinutes(1));
      all.add(s);
      sends.put(i, s);
    }
    sends.remove(2); // answered on its own earlier

    assertThat(sends.removeUpTo(4)).containsExactly(all.get(0), all.get(2), all.get(3));
    assertThat(sends.sequences()).containsExactly(5L);
  }

  @Test
  void noSendIsMissedWhileThreadsAddAsTheTimerFires() throws Exception {
    AtomicLong seq = new AtomicLong();
    ConcurrentLinkedQueue<TestSend> added = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < 2_000; i++) {
                  TestSend s = new TestSend(Duration.ofMillis(2));
                  // a sequence number and its put under one lock: numbers grow with time
                  synchronized (seq) {
                    sends.put(seq.incrementAndGet(), s);
                  }
                  added.add(s);
                }
              });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join(10_000);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> added.stream().allMatch(s -> s.future().isDone()));
    assertThat(added).hasSize(8_000);
    assertThat(failed).hasSize(8_000);
    assertThat(sends.size()).isZero();
  }

  /**
   * A send's timeout completes its caller's future, and what the caller chained on it without an
   * executor runs with it. One that blocks must not hold up the other sends' timeouts (every
   * transport's share one timer): before, the callbacks ran on the timer's thread, and a send of
   * another transport timing out meanwhile waited behind the blocked one.
   */
  @Test
  void aTimeoutCallbackThatBlocksHoldsUpNoOtherSendsTimeout() throws Exception {
    CountDownLatch blocking = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    PendingSends<TestSend> stuck =
        new PendingSends<>(
            "no answer",
            (s, e) -> {
              blocking.countDown();
              try {
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
              }
              s.future().completeExceptionally(e);
            });
    try {
      stuck.put(1, new TestSend(Duration.ofMillis(1)));
      // The fault: the first transport's callback is blocked.
      assertThat(blocking.await(5, TimeUnit.SECONDS)).isTrue();
      TestSend other = new TestSend(Duration.ofMillis(20));
      sends.put(1, other);

      await().atMost(Duration.ofSeconds(2)).until(other.future()::isDone);
      assertThat(release.getCount()).as("the first callback is still blocked").isEqualTo(1);
      assertThat(other.future()).isCompletedExceptionally();
    } finally {
      release.countDown();
    }
  }
}
