package dev.parley.rpc;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.Code;
import dev.parley.error.Status;
import dev.parley.operation.CallContext;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import dev.parley.policy.Policy;
import dev.parley.testing.kit.FaultProxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scriptable server behind a {@link FaultProxy}: clients built here call through the proxy, so
 * tests inject network faults there and handler faults here, and count what reached the handler.
 */
final class Backend implements AutoCloseable {

  record Ping(String text, int size) {}

  record Pong(String text, long deadlineMs, String padding) {}

  static final Operation<Ping, Pong> PING =
      Operation.of("probe", "Ping", Ping.class, Pong.class).withIdempotent(true);
  static final Operation<Ping, Pong> UNSAFE =
      Operation.of("probe", "Unsafe", Ping.class, Pong.class);
  static final Operation<Ping, Pong> HANG =
      Operation.of("probe", "Hang", Ping.class, Pong.class).withIdempotent(true);
  static final Operation<Ping, Pong> RELAY =
      Operation.of("probe", "Relay", Ping.class, Pong.class).withIdempotent(true);

  static final Codecs CODECS = Codecs.of(JsonCodec.of());

  /** Handler invocations of PING and UNSAFE. */
  final AtomicInteger calls = new AtomicInteger();

  /** Arrival times (nanoTime) of PING and UNSAFE calls. */
  final List<Long> arrivals = new CopyOnWriteArrayList<>();

  /** When set, PING and UNSAFE fail with this code while {@link #failuresLeft} > 0. */
  final AtomicReference<Code> failWith = new AtomicReference<>();

  final AtomicInteger failuresLeft = new AtomicInteger();

  /** HANG calls whose caller gave up, as the server saw it. */
  final AtomicInteger cancellations = new AtomicInteger();

  /** Milliseconds left of the deadline PING saw, last call. */
  final AtomicReference<Long> seenDeadlineMs = new AtomicReference<>();

  /** Where RELAY calls next. */
  final AtomicReference<RpcClient> nextHop = new AtomicReference<>();

  final RpcServer server;
  final FaultProxy proxy;

  Backend() {
    this(Policy.none());
  }

  Backend(Policy serverPolicy) {
    this.server =
        RpcServer.builder()
            .codecs(CODECS)
            .policy(serverPolicy)
            .serve(PING, this::ping)
            .serve(UNSAFE, this::ping)
            .serve(HANG, this::hang)
            .serve(RELAY, this::relay)
            .build()
            .start();
    this.proxy = FaultProxy.to("127.0.0.1", server.port());
  }

  /** A client of {@code binding} through the proxy. */
  RpcClient client(Binding binding, Policy policy) {
    return RpcClient.builder()
        .binding(binding)
        .endpoints(Endpoints.of("127.0.0.1:" + proxy.port()))
        .codecs(CODECS)
        .policy(policy)
        .build();
  }

  /** Fails the next {@code n} PING/UNSAFE calls with {@code code} (n = MAX_VALUE: an outage). */
  void fail(Code code, int n) {
    failWith.set(code);
    failuresLeft.set(n);
  }

  void heal() {
    failuresLeft.set(0);
  }

  /** Back to a healthy, uncounted backend behind a fault-free proxy (between tests). */
  void reset() {
    heal();
    calls.set(0);
    arrivals.clear();
    seenDeadlineMs.set(null);
    proxy.clearToxics();
    proxy.enable();
    proxy.resetAll();
  }

  private Pong ping(Ping ping, CallContext ctx) {
    arrivals.add(System.nanoTime());
    calls.incrementAndGet();
    seenDeadlineMs.set(ctx.deadline().map(Deadline::remainingMillis).orElse(-1L));
    if (failuresLeft.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
      throw Status.of(failWith.get(), "probe.scripted", "scripted failure").asException();
    }
    return new Pong(ping.text(), seenDeadlineMs.get(), "x".repeat(ping.size()));
  }

  private Pong hang(Ping ping, CallContext ctx) throws InterruptedException {
    CountDownLatch gaveUp = new CountDownLatch(1);
    ctx.onCancel(gaveUp::countDown);
    if (gaveUp.await(10, TimeUnit.SECONDS)) {
      cancellations.incrementAndGet();
    }
    return new Pong("late", -1, "");
  }

  /** Calls the next hop with the inherited deadline, after spending some of it. */
  private Pong relay(Ping ping, CallContext ctx) throws InterruptedException {
    long before = ctx.deadline().map(Deadline::remainingMillis).orElse(-1L);
    new CountDownLatch(1).await(ping.size(), TimeUnit.MILLISECONDS); // the work this hop does
    Pong next = nextHop.get().call(PING, new Ping(ping.text(), 0));
    return new Pong("relayed " + before, next.deadlineMs(), "");
  }

  @Override
  public void close() {
    proxy.close();
    server.close();
  }
}
