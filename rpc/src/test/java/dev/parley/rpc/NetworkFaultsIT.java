package dev.parley.rpc;

import static dev.parley.rpc.Backend.PING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.parley.error.DeadlineExceededException;
import dev.parley.error.TransportException;
import dev.parley.policy.Policy;
import dev.parley.rpc.Backend.Ping;
import dev.parley.rpc.Backend.Pong;
import dev.parley.testing.kit.Toxic;
import dev.parley.testing.kit.Toxic.Direction;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RELIABILITY.md C7: every network fault, injected by the fault proxy between client and server,
 * gives its documented outcome within the call's deadline — no hang, no corrupted decode. The table
 * is in docs/guide.md ("Network faults").
 */
class NetworkFaultsIT {

  private static final Duration DEADLINE = Duration.ofSeconds(1);

  /** A response big enough to span many TCP segments and HTTP/2 frames. */
  private static final Ping BIG = new Ping("big", 20_000);

  private static Backend backend;

  @BeforeAll
  static void start() {
    backend = new Backend();
  }

  @AfterAll
  static void stop() {
    backend.close();
  }

  @BeforeEach
  void reset() {
    backend.reset();
  }

  /** Fault, binding, the outcome documented for it (null: the call succeeds intact). */
  static Stream<Arguments> faults() {
    return Stream.of(Binding.REST, Binding.GRPC)
        .flatMap(
            b ->
                Stream.of(
                    Arguments.of(
                        "latency 3 s",
                        b,
                        Toxic.latency(Direction.DOWNSTREAM, Duration.ofSeconds(3)),
                        DeadlineExceededException.class),
                    Arguments.of(
                        "bandwidth 2 KB/s",
                        b,
                        Toxic.bandwidth(Direction.DOWNSTREAM, 2_000),
                        DeadlineExceededException.class),
                    Arguments.of(
                        "blackhole",
                        b,
                        Toxic.timeout(Direction.BOTH),
                        DeadlineExceededException.class),
                    Arguments.of(
                        "reset_peer",
                        b,
                        Toxic.resetPeer(Direction.UPSTREAM, Duration.ZERO),
                        TransportException.class),
                    Arguments.of(
                        "cut after 2 KB",
                        b,
                        Toxic.limitData(Direction.DOWNSTREAM, 2_000),
                        TransportException.class),
                    Arguments.of(
                        "1-byte slices", b, Toxic.slicer(Direction.BOTH, 1, Duration.ZERO), null)));
  }

  @ParameterizedTest(name = "{0} over {1}")
  @MethodSource("faults")
  void everyFaultHasItsDocumentedOutcomeWithinTheDeadline(
      String name, Binding binding, Toxic toxic, Class<? extends Throwable> expected) {
    try (RpcClient client = backend.client(binding, Policy.builder().deadline(DEADLINE).build())) {
      backend.proxy.add(toxic);

      long start = System.nanoTime();
      Pong[] pong = new Pong[1];
      Throwable failure = catchThrowable(() -> pong[0] = client.call(PING, BIG));
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      System.out.printf(
          "C7 %s over %s: %s in %d ms%n",
          name,
          binding,
          failure == null ? "ok" : ((dev.parley.error.ParleyException) failure).errorCode(),
          elapsedMs);
      assertThat(elapsedMs).as("no hang").isLessThanOrEqualTo(DEADLINE.toMillis() + 250);
      if (expected == null) {
        assertThat(failure).isNull();
        assertThat(pong[0].padding()).hasSize(BIG.size()).matches("x+");
      } else {
        assertThat(failure).isInstanceOf(expected);
      }
      if (toxic instanceof Toxic.ResetPeer) {
        assertThat(backend.proxy.resets()).as("the reset happened").isPositive();
      }
    }
  }
}
