package dev.parley.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.Server;
import dev.parley.bench.TransportBench.Result;
import dev.parley.bench.TransportBench.Side;
import dev.parley.bench.rpc.EchoGrpc;
import dev.parley.bench.rpc.EchoReply;
import dev.parley.bench.rpc.EchoRequest;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.operation.Operation;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Parley's RPC bindings against the raw stacks doing the same work on loopback, client and server
 * in this process:
 *
 * <ul>
 *   <li>gRPC: the operation binding ({@link RpcClient} → codec-marshalled method) vs a grpc-java
 *       stub calling a plain grpc-java service with the same logic, same Armeria server;
 *   <li>REST: the operation binding vs a bare Armeria {@code WebClient} posting to a bare Armeria
 *       service, both sides with one Jackson {@code ObjectMapper};
 *   <li>the policy pipeline end to end: REST calls through deadline + rate limit + circuit breaker
 *       vs the same client without a policy.
 * </ul>
 *
 * Throughput is a closed loop with {@value #IN_FLIGHT} calls in flight; latency is one call in
 * flight (p50 and p99 of sequential calls). Pairs run interleaved (raw, Parley, …).
 *
 * <pre>
 * ./mvnw -q -pl bench exec:exec -Dbench.args="rpc [calls] [repetitions]"
 * </pre>
 */
public final class RpcBench {

  static final int IN_FLIGHT = 16;

  public record Hello(String text, int number) {}

  public static final Operation<EchoRequest, EchoReply> ECHO_GRPC =
      Operation.of("parley.bench.ParleyEcho", "Echo", EchoRequest.class, EchoReply.class)
          .withIdempotent(true);
  public static final Operation<Hello, Hello> ECHO_REST =
      Operation.of("bench", "Echo", Hello.class, Hello.class).withIdempotent(true);

  private static final ObjectMapper MAPPER = new ObjectMapper();
  public static final EchoRequest GRPC_REQUEST =
      EchoRequest.newBuilder().setText("hello, parley").setNumber(42).build();
  public static final Hello REST_REQUEST = new Hello("hello, parley", 42);

  private RpcBench() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Codecs codecs = Codecs.of(ProtobufCodec.of(), JsonCodec.of());
    try (RpcServer server =
        RpcServer.builder()
            .codecs(codecs)
            .serve(ECHO_GRPC, (request, ctx) -> echo(request))
            .serve(ECHO_REST, (request, ctx) -> request)
            .grpcService(new RawEcho())
            .docs(false)
            .build()
            .start()) {
      Server bare = bareServer();
      try (RpcClient grpc = client(Binding.GRPC, server, codecs, Policy.none());
          RpcClient rest = client(Binding.REST, server, codecs, Policy.none());
          RpcClient guarded =
              client(Binding.REST, server, codecs, PolicyBench.deadlineRateLimitBreaker("bench"))) {
        EchoGrpc.EchoFutureStub stub =
            GrpcClients.newClient(
                "http://127.0.0.1:" + server.port(), EchoGrpc.EchoFutureStub.class);
        WebClient web = WebClient.of("http://127.0.0.1:" + bare.activeLocalPort());
        Supplier<CompletableFuture<?>> rawGrpc = () -> toCompletable(stub.echo(GRPC_REQUEST));
        Supplier<CompletableFuture<?>> parleyGrpc = () -> grpc.callAsync(ECHO_GRPC, GRPC_REQUEST);
        Supplier<CompletableFuture<?>> rawRest = () -> bareCall(web);
        Supplier<CompletableFuture<?>> parleyRest = () -> rest.callAsync(ECHO_REST, REST_REQUEST);
        Supplier<CompletableFuture<?>> guardedRest =
            () -> guarded.callAsync(ECHO_REST, REST_REQUEST);

        System.out.printf(Locale.ROOT, "calls=%d in-flight=%d reps=%d%n", calls, IN_FLIGHT, reps);
        System.out.println(
            "| pair | raw calls/s | Parley calls/s | ratio (min–max) | raw CPU µs/call |"
                + " Parley CPU µs/call | CPU ratio (min–max) |");
        System.out.println("|---|---|---|---|---|---|---|");
        TransportBench.compare(
            "gRPC binding vs grpc-java stub",
            closedLoop(rawGrpc),
            closedLoop(parleyGrpc),
            calls,
            reps);
        TransportBench.compare(
            "REST binding vs bare Armeria + Jackson",
            closedLoop(rawRest),
            closedLoop(parleyRest),
            calls,
            reps);
        TransportBench.compare(
            "REST with deadline + rate limit + breaker vs no policy",
            closedLoop(parleyRest),
            closedLoop(guardedRest),
            calls,
            reps);
        System.out.println();
        System.out.println(
            "| one call in flight | raw p50 µs | Parley p50 µs | Δ p50 µs | raw p99 µs | Parley p99 µs |");
        System.out.println("|---|---|---|---|---|---|");
        latency("gRPC binding vs grpc-java stub", rawGrpc, parleyGrpc, calls / 4, reps);
        latency("REST binding vs bare Armeria + Jackson", rawRest, parleyRest, calls / 4, reps);
        latency("REST with policy vs no policy", parleyRest, guardedRest, calls / 4, reps);
      } finally {
        bare.stop().join();
      }
    }
  }

  public static RpcClient client(Binding binding, RpcServer server, Codecs codecs, Policy policy) {
    return RpcClient.builder()
        .binding(binding)
        .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
        .codecs(codecs)
        .policy(policy)
        .build();
  }

  public static EchoReply echo(EchoRequest request) {
    return EchoReply.newBuilder().setText(request.getText()).setNumber(request.getNumber()).build();
  }

  /** The same logic as a plain grpc-java service. */
  public static final class RawEcho extends EchoGrpc.EchoImplBase {
    @Override
    public void echo(EchoRequest request, StreamObserver<EchoReply> observer) {
      observer.onNext(RpcBench.echo(request));
      observer.onCompleted();
    }
  }

  /** A bare Armeria service echoing JSON with Jackson, on the blocking executor like Parley's. */
  public static Server bareServer() {
    Server server =
        Server.builder()
            .http(0)
            .service(
                "/bench/Echo",
                (ctx, req) ->
                    HttpResponse.of(
                        req.aggregate()
                            .thenApplyAsync(
                                agg -> {
                                  try {
                                    Hello hello =
                                        MAPPER.readValue(agg.content().array(), Hello.class);
                                    return HttpResponse.of(
                                        HttpStatus.OK,
                                        MediaType.JSON,
                                        MAPPER.writeValueAsBytes(hello));
                                  } catch (java.io.IOException e) {
                                    return HttpResponse.of(HttpStatus.BAD_REQUEST);
                                  }
                                },
                                ctx.blockingTaskExecutor())))
            .build();
    server.start().join();
    return server;
  }

  public static CompletableFuture<?> bareCall(WebClient web) {
    byte[] body;
    try {
      body = MAPPER.writeValueAsBytes(REST_REQUEST);
    } catch (java.io.IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    return web.prepare()
        .post("/bench/Echo")
        .content(MediaType.JSON, body)
        .execute()
        .aggregate()
        .thenApply(
            (AggregatedHttpResponse res) -> {
              try {
                return MAPPER.readValue(res.content().array(), Hello.class);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
  }

  public static <T> CompletableFuture<T> toCompletable(
      com.google.common.util.concurrent.ListenableFuture<T> future) {
    CompletableFuture<T> result = new CompletableFuture<>();
    future.addListener(
        () -> {
          try {
            result.complete(future.get());
          } catch (Exception e) {
            result.completeExceptionally(e);
          }
        },
        Runnable::run);
    return result;
  }

  /** {@code n} calls, at most {@link #IN_FLIGHT} at once. */
  static Side closedLoop(Supplier<CompletableFuture<?>> call) {
    return n -> {
      Semaphore window = new Semaphore(IN_FLIGHT);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      long start = System.nanoTime();
      long cpu = TransportBench.cpuNanos();
      for (int i = 0; i < n; i++) {
        if (!window.tryAcquire(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no call completed in 30 s");
        }
        call.get()
            .whenComplete(
                (v, e) -> {
                  if (e != null) {
                    failure.compareAndSet(null, e);
                  }
                  window.release();
                });
      }
      if (!window.tryAcquire(IN_FLIGHT, 30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("calls still in flight after 30 s");
      }
      Result result = TransportBench.measure(n, start, cpu);
      if (failure.get() != null) {
        throw new IllegalStateException("a call failed", failure.get());
      }
      return result;
    };
  }

  /** p50 and p99 of sequential calls, interleaved raw/Parley, medians over the repetitions. */
  static void latency(
      String name,
      Supplier<CompletableFuture<?>> raw,
      Supplier<CompletableFuture<?>> ours,
      int n,
      int reps)
      throws Exception {
    sequential(raw, n);
    sequential(ours, n);
    List<Double> rawP50 = new ArrayList<>();
    List<Double> oursP50 = new ArrayList<>();
    List<Double> rawP99 = new ArrayList<>();
    List<Double> oursP99 = new ArrayList<>();
    for (int i = 0; i < reps; i++) {
      long[] r = sequential(raw, n);
      long[] o = sequential(ours, n);
      rawP50.add(r[n / 2] / 1000.0);
      oursP50.add(o[n / 2] / 1000.0);
      rawP99.add(r[n * 99 / 100] / 1000.0);
      oursP99.add(o[n * 99 / 100] / 1000.0);
    }
    double r50 = TransportBench.median(rawP50);
    double o50 = TransportBench.median(oursP50);
    System.out.printf(
        Locale.ROOT,
        "| %s | %.1f | %.1f | %+.1f | %.1f | %.1f |%n",
        name,
        r50,
        o50,
        o50 - r50,
        TransportBench.median(rawP99),
        TransportBench.median(oursP99));
  }

  private static long[] sequential(Supplier<CompletableFuture<?>> call, int n) throws Exception {
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      call.get().get(30, TimeUnit.SECONDS);
      nanos[i] = System.nanoTime() - start;
    }
    Arrays.sort(nanos);
    return nanos;
  }
}
