package dev.parley.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.bench.lab.Measure.Call;
import dev.parley.bench.lab.Measure.Latency;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MeasureTest {

  /**
   * A client whose first call blocks the caller for 300 ms (a full socket buffer, say), then
   * answers at once: the calls that were due during the stall could only start after it, so the
   * open loop must count their wait from each call's intended start. Measured from the actual
   * start, they would all look instant (coordinated omission).
   */
  @Test
  void openLoopCountsTheWaitOfCallsDueDuringAStall() throws Exception {
    ScheduledExecutorService server = Executors.newSingleThreadScheduledExecutor();
    try {
      CompletableFuture<Void> released = new CompletableFuture<>();
      server.schedule(() -> released.complete(null), 300, TimeUnit.MILLISECONDS);
      AtomicInteger calls = new AtomicInteger();
      Call call =
          () -> {
            if (calls.incrementAndGet() == 1) {
              released.join();
            }
            return CompletableFuture.completedFuture(null);
          };

      Latency l = Measure.openLoop(call, 1_000, 1.0, 10_000);

      assertThat(calls.get()).isEqualTo(1_000);
      assertThat(l.count()).isEqualTo(1_000);
      // the calls due in the first 300 ms waited up to 300 ms: the slowest 1 % nearly all of it
      assertThat(l.p99()).isGreaterThan(150_000);
      assertThat(l.p50()).isLessThan(l.p99());
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void closedLoopKeepsAtMostTheWindowInFlight() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    ScheduledExecutorService server = Executors.newScheduledThreadPool(2);
    try {
      Call call =
          () -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            CompletableFuture<Void> f = new CompletableFuture<>();
            server.schedule(
                () -> {
                  inFlight.decrementAndGet();
                  f.complete(null);
                },
                1,
                TimeUnit.MILLISECONDS);
            return f;
          };

      Measure.Throughput t = Measure.closedLoop(call, 500, 8);

      assertThat(most.get()).isBetween(2, 8);
      assertThat(t.perSecond()).isPositive();
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertThat(Measure.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
    assertThat(Measure.median(List.of(5.0, 1.0, 3.0))).isEqualTo(3.0);
  }
}
