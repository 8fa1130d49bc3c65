package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.operation.Operation;
import dev.parley.rpc.Kitchen.CreateTicket;
import dev.parley.rpc.Kitchen.Ticket;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 19's slow-HTTP/2 probe: one connection (grpc-java's Netty client, which keeps one
 * connection and queues what the server's stream limit does not admit) opens 2,000 slow calls. The
 * stream limit (100 per connection) holds that connection to 100 handler threads, so calls from
 * another connection are served meanwhile; before, the 2,000 took every thread and the other
 * connection's calls waited behind them and timed out.
 */
class SlowCallsIT {

  static final Operation<CreateTicket, Ticket> SLOW =
      Operation.of("kitchen", "Slow", CreateTicket.class, Ticket.class);

  @Test
  void oneConnectionsSlowCallsDoNotStarveAnotherConnection() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger inSlow = new AtomicInteger();
    AtomicInteger maxInSlow = new AtomicInteger();
    AtomicInteger slowDone = new AtomicInteger();
    Codecs codecs = Codecs.of(JsonCodec.of());
    try (RpcServer server =
        RpcServer.builder()
            .codecs(codecs)
            .serve(
                SLOW,
                (request, context) -> {
                  maxInSlow.accumulateAndGet(inSlow.incrementAndGet(), Math::max);
                  try {
                    release.await(30, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } finally {
                    inSlow.decrementAndGet();
                  }
                  return new Ticket("slow", request.orderId(), 1, context.binding());
                })
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .build()
            .start()) {
      ManagedChannel flood =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      // the other service's client is connected (and warmed up) before the flood
      RpcClient other =
          RpcClient.builder()
              .binding(Binding.GRPC)
              .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
              .codecs(codecs)
              .build();
      try {
        other.call(Kitchen.CREATE_TICKET, new CreateTicket("warm-up", 1));
        MethodDescriptor<CreateTicket, Ticket> slow = GrpcOperations.clientMethod(SLOW, codecs);
        for (int i = 0; i < 2_000; i++) {
          ClientCall<CreateTicket, Ticket> call = flood.newCall(slow, CallOptions.DEFAULT);
          call.start(
              new ClientCall.Listener<>() {
                @Override
                public void onClose(io.grpc.Status status, Metadata trailers) {
                  slowDone.incrementAndGet();
                }
              },
              new Metadata());
          call.sendMessage(new CreateTicket("slow-" + i, 1));
          call.halfClose();
          call.request(1);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> inSlow.get() >= 100);

        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < 45; i++) {
          long start = System.nanoTime();
          other.call(
              Kitchen.CREATE_TICKET,
              new CreateTicket("o-" + i, 1),
              RpcClient.CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(3)));
          micros.add((System.nanoTime() - start) / 1_000);
        }
        Collections.sort(micros);
        System.out.printf(
            "slow-calls probe: 45 calls from another connection while 2,000 slow calls hold one:"
                + " p50 %d us, p99 %d us (max); %d slow calls in handlers at most%n",
            micros.get(22), micros.get(44), maxInSlow.get());
        assertThat(maxInSlow.get()).as("slow calls in handlers at once").isEqualTo(100);
        assertThat(slowDone).as("no slow call refused or failed meanwhile").hasValue(0);
        release.countDown();
        await()
            .atMost(Duration.ofSeconds(60))
            .untilAtomic(slowDone, org.hamcrest.Matchers.is(2_000));
      } finally {
        release.countDown();
        other.close();
        flood.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
