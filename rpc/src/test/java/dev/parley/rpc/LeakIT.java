package dev.parley.rpc;

import static dev.parley.rpc.Backend.PING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.error.ParleyException;
import dev.parley.policy.Policy;
import dev.parley.rpc.Backend.Ping;
import dev.parley.testing.kit.Toxic;
import dev.parley.testing.kit.Toxic.Direction;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RELIABILITY.md C6: 1,000 connection resets and 1,000 cuts in the middle of a response leave file
 * descriptors, threads and heap where they were.
 */
class LeakIT {

  private static final int FAULTS = 1_000;
  private static final Ping BIG = new Ping("big", 8_000);

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void noLeaksAfterAThousandResetsAndAThousandCuts(Binding binding) {
    try (Backend backend = new Backend();
        RpcClient client =
            backend.client(binding, Policy.builder().deadline(Duration.ofSeconds(2)).build())) {
      for (int i = 0; i < 200; i++) {
        client.call(PING, BIG); // warm up: pools, classes, JIT
      }
      backend.proxy.resetAll();
      Baseline before = Baseline.take();

      backend.proxy.add(Toxic.resetPeer(Direction.UPSTREAM, Duration.ZERO));
      long resetsBefore = backend.proxy.resets();
      // until 1,000 resets happened (a call can also fail on a connection another reset broke)
      for (int i = 0; backend.proxy.resets() - resetsBefore < FAULTS && i < 2 * FAULTS; i++) {
        assertThatThrownBy(() -> client.call(PING, BIG)).isInstanceOf(ParleyException.class);
      }
      long resets = backend.proxy.resets() - resetsBefore;
      backend.proxy.clearToxics();
      Toxic cut = Toxic.limitData(Direction.DOWNSTREAM, 4_000);
      backend.proxy.add(cut);
      int cutsBefore = backend.calls.get();
      for (int i = 0; backend.calls.get() - cutsBefore < FAULTS && i < 2 * FAULTS; i++) {
        assertThatThrownBy(() -> client.call(PING, BIG)).isInstanceOf(ParleyException.class);
      }
      int cutResponses = backend.calls.get() - cutsBefore;
      backend.proxy.clearToxics();
      client.call(PING, BIG);

      assertThat(resets).as("resets that happened").isGreaterThanOrEqualTo(FAULTS);
      assertThat(cutResponses).as("responses cut mid-way").isGreaterThanOrEqualTo(FAULTS);
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .untilAsserted(
              () -> {
                Baseline after = Baseline.take();
                System.out.printf("C6 %s: before %s, after %s%n", binding, before, after);
                assertThat(after.fds).as("file descriptors").isLessThanOrEqualTo(before.fds + 10);
                assertThat(after.threads).as("threads").isLessThanOrEqualTo(before.threads + 4);
                assertThat(after.heapBytes)
                    .as("heap after GC")
                    .isLessThanOrEqualTo(before.heapBytes + 32L * 1024 * 1024);
              });
    }
  }

  /** File descriptors, live threads and heap in use after a GC. */
  private record Baseline(int fds, int threads, long heapBytes) {
    static Baseline take() {
      System.gc();
      String[] fds = new File("/proc/self/fd").list();
      return new Baseline(
          fds == null ? -1 : fds.length,
          ManagementFactory.getThreadMXBean().getThreadCount(),
          ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }

    @Override
    public String toString() {
      return fds + " fds, " + threads + " threads, " + heapBytes / (1024 * 1024) + " MiB heap";
    }
  }
}
