package dev.parley.rpc;

import static dev.parley.rpc.Backend.HANG;
import static dev.parley.rpc.Backend.PING;
import static dev.parley.rpc.Backend.RELAY;
import static dev.parley.rpc.Backend.UNSAFE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.error.RemoteException;
import dev.parley.error.TransportException;
import dev.parley.policy.CircuitState;
import dev.parley.policy.Policy;
import dev.parley.rpc.Backend.Ping;
import dev.parley.rpc.Backend.Pong;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RELIABILITY.md C2–C5 against real REST and gRPC servers, faults injected through a {@link
 * dev.parley.testing.kit.FaultProxy} or scripted in the handler. (C1 and the exact unit parts of
 * C3/C4 are {@code PolicyTest} in core, on a fake clock; C6 is {@link LeakIT}; C7 {@link
 * NetworkFaultsIT}.)
 */
class ResilienceIT {

  private static final Ping PING_OK = new Ping("hi", 0);

  /** One server for the class (an Armeria server takes ~2 s to stop); reset before each test. */
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

  // ---- C2: the breaker sheds load in an outage ----

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void breakerShedsLoadWhileTheBackendFails(Binding binding) {
    Policy policy =
        Policy.builder().name("c2").circuitBreaker(50, 10, Duration.ofSeconds(2), 2).build();
    try (RpcClient client = backend.client(binding, policy)) {
      for (int i = 0; i < 10; i++) {
        client.call(PING, PING_OK);
      }

      backend.fail(Code.UNAVAILABLE, Integer.MAX_VALUE);
      int failed = 0;
      while (policy.circuitState() != CircuitState.OPEN && failed < 50) {
        assertThatThrownBy(() -> client.call(PING, PING_OK)).isInstanceOf(RemoteException.class);
        failed++;
      }
      int callsAtOpen = backend.calls.get();
      long[] rejectedNanos = new long[200];
      for (int i = 0; i < rejectedNanos.length; i++) {
        long start = System.nanoTime();
        RejectedException e =
            catchThrowableOfType(RejectedException.class, () -> client.call(PING, PING_OK));
        rejectedNanos[i] = System.nanoTime() - start;
        assertThat(e.errorCode()).isEqualTo("parley.circuit_open");
      }
      int callsWhileOpen = backend.calls.get() - callsAtOpen;
      backend.heal();
      await()
          .atMost(Duration.ofSeconds(6))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> tryCall(client) && policy.circuitState() == CircuitState.CLOSED);

      assertThat(failed).isLessThanOrEqualTo(10);
      assertThat(callsWhileOpen).isZero();
      assertThat(backend.calls.get() - callsAtOpen).as("probes").isEqualTo(2);
      Arrays.sort(rejectedNanos);
      System.out.printf(
          "C2 %s: opened after %d failed calls; rejected-call p50 %d µs, p99 %d µs%n",
          binding, failed, rejectedNanos[100] / 1000, rejectedNanos[197] / 1000);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void breakerStopsConnectingToAnUnreachableServer(Binding binding) {
    Policy policy =
        Policy.builder().name("c2-net").circuitBreaker(50, 10, Duration.ofSeconds(30), 1).build();
    try (RpcClient client = backend.client(binding, policy)) {
      client.call(PING, PING_OK);

      backend.proxy.disable();
      int failed = 0;
      while (policy.circuitState() != CircuitState.OPEN && failed < 50) {
        assertThatThrownBy(() -> client.call(PING, PING_OK)).isInstanceOf(TransportException.class);
        failed++;
      }
      long refusedAtOpen = backend.proxy.refused();
      for (int i = 0; i < 100; i++) {
        assertThatThrownBy(() -> client.call(PING, PING_OK)).isInstanceOf(RejectedException.class);
      }

      assertThat(failed).isLessThanOrEqualTo(10);
      assertThat(refusedAtOpen).as("connection attempts refused by the dead server").isPositive();
      assertThat(backend.proxy.refused()).isEqualTo(refusedAtOpen);
    }
  }

  // ---- C3: rate limits ----

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void serverRateLimitAnswersResourceExhaustedWithARetryAfter(Binding binding) throws Exception {
    Policy serverPolicy = Policy.builder().name("server").rateLimit(5, Duration.ofHours(1)).build();
    try (Backend backend = new Backend(serverPolicy);
        RpcClient client = backend.client(binding, Policy.none())) {
      for (int i = 0; i < 5; i++) {
        client.call(PING, PING_OK);
      }

      RemoteException refused =
          catchThrowableOfType(RemoteException.class, () -> client.call(PING, PING_OK));
      HttpResponse<String> raw =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + backend.server.port() + "/probe/Ping"))
                      .header("content-type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"x\",\"size\":0}"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());

      assertThat(backend.calls).hasValue(5);
      assertThat(refused.status().code()).isEqualTo(Code.RESOURCE_EXHAUSTED);
      assertThat(refused.errorCode()).isEqualTo("parley.rate_limited");
      assertThat(RejectedException.retryAfterOf(refused.status()))
          .hasValueSatisfying(d -> assertThat(d).isPositive());
      assertThat(raw.statusCode()).isEqualTo(429);
      assertThat(raw.headers().firstValue("retry-after")).isPresent();
      assertThat(raw.body()).contains("\"errorCode\":\"parley.rate_limited\"");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void clientRateLimitRefusesLocally(Binding binding) {
    Policy policy = Policy.builder().rateLimit(3, Duration.ofHours(1)).build();
    try (RpcClient client = backend.client(binding, policy)) {

      int refused = 0;
      for (int i = 0; i < 10; i++) {
        try {
          client.call(PING, PING_OK);
        } catch (RejectedException e) {
          refused++;
        }
      }

      assertThat(backend.calls).hasValue(3);
      assertThat(refused).isEqualTo(7);
    }
  }

  // ---- C4: retries bounded and safe ----

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void attemptsAreMinOfFailuresPlusOneAndTheMaximum(Binding binding) {
    Policy policy =
        Policy.builder()
            .retry(4, Duration.ofMillis(1), Duration.ofMillis(5))
            .retryBudget(1, 100)
            .build();
    try (RpcClient client = backend.client(binding, policy)) {
      for (int k = 0; k <= 6; k++) {
        int before = backend.calls.get();
        backend.fail(Code.UNAVAILABLE, k);

        try {
          client.call(PING, PING_OK);
        } catch (RemoteException e) {
          assertThat(e.status().code()).isEqualTo(Code.UNAVAILABLE);
        }

        assertThat(backend.calls.get() - before).as("k=%d", k).isEqualTo(Math.min(k + 1, 4));
        backend.heal();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void neverRetriesUnsafeCallsOrClientErrors(Binding binding) {
    Policy policy =
        Policy.builder()
            .retry(5, Duration.ofMillis(1), Duration.ofMillis(5))
            .retryBudget(1, 100)
            .build();
    try (RpcClient client = backend.client(binding, policy)) {
      backend.fail(Code.UNAVAILABLE, 3);
      assertThatThrownBy(() -> client.call(UNSAFE, PING_OK)).isInstanceOf(RemoteException.class);
      assertThat(backend.calls).as("non-idempotent, no key").hasValue(1);

      backend.fail(Code.UNAVAILABLE, 2);
      Pong keyed =
          client.call(UNSAFE, PING_OK, RpcClient.CallOptions.DEFAULT.withIdempotencyKey("k-1"));
      assertThat(keyed.text()).isEqualTo("hi");
      assertThat(backend.calls).as("with an idempotency key").hasValue(1 + 3);

      backend.fail(Code.INVALID_ARGUMENT, 3);
      ParleyException invalid =
          catchThrowableOfType(ParleyException.class, () -> client.call(PING, PING_OK));
      assertThat(invalid.status().code()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(backend.calls).as("INVALID_ARGUMENT").hasValue(4 + 1);
      backend.heal();

      RpcClient.CallOptions none = RpcClient.CallOptions.DEFAULT;
      assertThatThrownBy(() -> client.call(PING, new Ping(null, -1), none))
          .isInstanceOfAny(BadInputException.class, RemoteException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void backoffGapsAreAtLeastTheLowerEdgeOfTheirBand(Binding binding) {
    Policy policy =
        Policy.builder()
            .retry(4, Duration.ofMillis(100), Duration.ofSeconds(1))
            .retryJitter(0.2)
            .retryBudget(1, 100)
            .build();
    try (RpcClient client = backend.client(binding, policy)) {
      backend.fail(Code.UNAVAILABLE, 3);

      client.call(PING, PING_OK);

      assertThat(backend.arrivals).hasSize(4);
      for (int i = 1; i < 4; i++) {
        long gapMs =
            TimeUnit.NANOSECONDS.toMillis(backend.arrivals.get(i) - backend.arrivals.get(i - 1));
        long base = 100L << (i - 1);
        assertThat(gapMs).as("gap before retry %d", i).isGreaterThanOrEqualTo((long) (base * 0.8));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void retryBudgetHoldsInATotalOutage(Binding binding) {
    Policy policy =
        Policy.builder()
            .retry(5, Duration.ofMillis(1), Duration.ofMillis(2))
            .retryBudget(0.2, 1)
            .build();
    try (RpcClient client = backend.client(binding, policy)) {
      backend.fail(Code.UNAVAILABLE, Integer.MAX_VALUE);

      for (int i = 0; i < 100; i++) {
        assertThatThrownBy(() -> client.call(PING, PING_OK)).isInstanceOf(RemoteException.class);
      }

      // without a budget: 500 attempts; with it, 100 calls + 20 % + 1/s over the 10 s window
      assertThat(backend.calls.get()).isBetween(100, 100 + 20 + 10);
      assertThat(policy.metrics().retriesRefused()).isPositive();
    }
  }

  // ---- C5: deadlines hold and propagate ----

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void clientFailsAtItsDeadlineAndTheServerSeesTheCancellation(Binding binding) {
    Policy policy = Policy.builder().deadline(Duration.ofMillis(300)).build();
    try (RpcClient client = backend.client(binding, policy)) {
      client.call(PING, PING_OK); // connect first: measure the deadline, not the handshake
      int cancelledBefore = backend.cancellations.get();

      long start = System.nanoTime();
      assertThatThrownBy(() -> client.call(HANG, PING_OK))
          .isInstanceOf(DeadlineExceededException.class);
      long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(elapsedMs).isBetween(300L - 50, 300L + 50);
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () ->
                  assertThat(backend.cancellations.get())
                      .as("the server saw the caller give up")
                      .isEqualTo(cancelledBefore + 1));
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Binding.class,
      names = {"REST", "GRPC"})
  void theNextHopGetsTheRemainingTime(Binding binding) {
    try (Backend second = new Backend();
        RpcClient toSecond = second.client(binding, Policy.none());
        RpcClient toFirst =
            backend.client(binding, Policy.builder().deadline(Duration.ofSeconds(2)).build())) {
      backend.nextHop.set(toSecond);

      Pong pong = toFirst.call(RELAY, new Ping("hop", 300));

      long firstSaw = Long.parseLong(pong.text().substring("relayed ".length()));
      long secondSaw = pong.deadlineMs();
      assertThat(firstSaw).isBetween(1L, 2000L);
      assertThat(secondSaw).isPositive().isLessThanOrEqualTo(firstSaw - 300);
    }
  }

  private static boolean tryCall(RpcClient client) {
    try {
      client.call(PING, PING_OK);
      return true;
    } catch (ParleyException e) {
      return false;
    }
  }
}
