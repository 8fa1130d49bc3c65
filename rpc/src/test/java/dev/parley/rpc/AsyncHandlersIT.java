package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.Status;
import dev.parley.messaging.Messaging;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code RpcServer.Builder.serveAsync}: an operation whose handler returns a stage is answered when
 * the stage completes, over REST, gRPC and messaging alike, without holding a handler thread while
 * it waits — 40 calls wait together on a server with 2 handler threads.
 */
class AsyncHandlersIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  record Order(String id) {}

  record Answer(String id, String thread, boolean deadlineCurrent, String binding) {}

  static final Operation<Order, Answer> LOOKUP =
      Operation.of("async.Orders", "Lookup", Order.class, Answer.class);

  /** Answers only when {@link #PARKED} calls are waiting at once. */
  static final Operation<Order, Answer> GATHER =
      Operation.of("async.Orders", "Gather", Order.class, Answer.class);

  static final int PARKED = 40;

  private static final Codecs CODECS = Codecs.of(JsonCodec.of());
  private static final ConcurrentLinkedQueue<CompletableFuture<Answer>> waiting =
      new ConcurrentLinkedQueue<>();
  private static final AtomicReference<CountDownLatch> arrived = new AtomicReference<>();
  private static Messaging serverMessaging;
  private static Messaging clientMessaging;
  private static RpcServer server;
  private static final Map<Binding, RpcClient> clients = new EnumMap<>(Binding.class);

  @BeforeAll
  static void start() {
    serverMessaging = messaging("async-orders");
    clientMessaging = messaging("async-callers");
    server =
        RpcServer.builder()
            .codecs(CODECS)
            .handlerThreads(2)
            .maxConcurrentCalls(200)
            .serveAsync(
                LOOKUP,
                (order, ctx) -> {
                  String thread = Thread.currentThread().getName();
                  boolean deadline = Deadline.current().isPresent();
                  if (order.id().equals("missing")) {
                    return CompletableFuture.failedFuture(
                        Status.of(Code.NOT_FOUND, "async.not_found", "no such order")
                            .asException());
                  }
                  // completed later, on another thread
                  return CompletableFuture.supplyAsync(
                      () -> new Answer(order.id(), thread, deadline, ctx.binding()),
                      CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
                })
            .serveAsync(
                GATHER,
                (order, ctx) -> {
                  CompletableFuture<Answer> answer = new CompletableFuture<>();
                  waiting.add(answer);
                  CountDownLatch latch = arrived.get();
                  latch.countDown();
                  if (latch.getCount() == 0) {
                    CompletableFuture<Answer> w;
                    while ((w = waiting.poll()) != null) {
                      w.complete(new Answer("all", "", false, ctx.binding()));
                    }
                  }
                  return answer;
                })
            .messaging(serverMessaging)
            .build()
            .start();
    for (Binding binding : Binding.values()) {
      clients.put(
          binding,
          RpcClient.builder()
              .binding(binding)
              .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
              .messaging(clientMessaging)
              .codecs(CODECS)
              .messagingTimeout(Duration.ofSeconds(20))
              .build());
    }
  }

  @AfterAll
  static void stop() {
    clients.values().forEach(RpcClient::close);
    server.close();
    clientMessaging.close();
    serverMessaging.close();
  }

  @Test
  void everyBindingAnswersWhenTheStageCompletesWithoutAHandlerThread() {
    for (Binding binding : Binding.values()) {
      Answer answer =
          clients
              .get(binding)
              .call(
                  LOOKUP,
                  new Order("o-1"),
                  RpcClient.CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(10)));

      assertThat(answer.id()).as(binding.name()).isEqualTo("o-1");
      assertThat(answer.binding()).isEqualTo(binding.name().toLowerCase());
      assertThat(answer.deadlineCurrent()).as(binding + ": the caller's deadline").isTrue();
      // called where the input was ready: an event loop over HTTP, the transport's dispatch
      // thread over messaging; never the blocking executor
      assertThat(answer.thread()).as(binding.name()).doesNotContain("blocking");
      if (binding != Binding.MESSAGING) {
        assertThat(answer.thread()).as(binding.name()).contains("armeria-common-worker");
      }
    }
  }

  @Test
  void aFailedStageAnswersItsStatusOnEveryBinding() {
    for (Binding binding : Binding.values()) {
      ParleyException failure =
          catchThrowableOfType(
              ParleyException.class, () -> clients.get(binding).call(LOOKUP, new Order("missing")));

      assertThat(failure).as(binding.name()).isNotNull();
      assertThat(failure.status().code()).as(binding.name()).isEqualTo(Code.NOT_FOUND);
      assertThat(failure.status().errorCode()).isEqualTo("async.not_found");
    }
  }

  /**
   * The handler answers only once {@value #PARKED} calls wait at once; blocking handlers on the
   * server's 2 handler threads could never get there (2 would block, the rest queue behind them).
   */
  @Test
  void manyCallsWaitAtOnceOnTwoHandlerThreads() {
    for (Binding binding : List.of(Binding.REST, Binding.GRPC)) {
      arrived.set(new CountDownLatch(PARKED));
      List<CompletableFuture<Answer>> calls = new ArrayList<>();
      for (int i = 0; i < PARKED; i++) {
        calls.add(clients.get(binding).callAsync(GATHER, new Order("o-" + i)));
      }

      assertThat(CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)))
          .as(binding.name())
          .succeedsWithin(Duration.ofSeconds(20));
      assertThat(calls).allSatisfy(c -> assertThat(c.join().id()).isEqualTo("all"));
    }
  }

  private static Messaging messaging(String service) {
    return Messaging.builder()
        .service(service)
        .brokerUri(broker.amqpUri().toString())
        .codecs(CODECS)
        .build();
  }
}
