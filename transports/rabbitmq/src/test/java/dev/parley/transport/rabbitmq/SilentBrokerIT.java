package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.Toxic;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An answer the broker never gives. Seen in a chaos run: a consumer's {@code basic.cancel} went out
 * as its connection died and amqp-client left it waiting, without an error, for its default RPC
 * timeout of 10 minutes, holding up the partition group and then the transport's close. Here the
 * link is made silent by a proxy while the AMQP heartbeat is a minute long, so the client cannot
 * notice the silence in the test's time: only Parley's own bounds can end the waits.
 */
class SilentBrokerIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration RPC_TIMEOUT = Duration.ofSeconds(2);

  private final FaultProxy proxy = FaultProxy.to("127.0.0.1", 5672);
  private final RabbitTransport transport =
      RabbitTransport.builder(rabbit.amqpUri(proxy.port()))
          .heartbeat(Duration.ofSeconds(60))
          .memberHeartbeat(Duration.ofMillis(300))
          .closeTimeout(CLOSE_TIMEOUT)
          .rpcTimeout(RPC_TIMEOUT)
          .build();

  @AfterEach
  void tearDown() {
    proxy.clearToxics();
    transport.close();
    proxy.close();
  }

  @Test
  void aCloseIsNotHeldByABrokerThatStopsAnswering() {
    // A partitioned group: its member owns every partition, each with a consumer of its own that
    // the close must cancel (a cancel and a channel close per partition, each waiting for answers).
    Destination.GroupQueue group = new Destination.GroupQueue("silent.events", "g");
    AtomicInteger handled = new AtomicInteger();
    transport.subscribe(
        group,
        new ConsumerSettings(1, 10, false, true),
        DeliveryHandler.settling(
            d -> {
              handled.incrementAndGet();
              return CompletableFuture.completedFuture(null);
            }));
    for (int k = 0; k < 32; k++) {
      transport
          .send(new Destination.Event("silent.events"), event("k" + k), SendOptions.NONE)
          .join();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.get() == 32);

    proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
    // The fault: a send's confirm no longer comes back (it takes milliseconds on this link).
    CompletableFuture<Void> unanswered =
        transport.send(new Destination.Event("silent.events"), event("k0"), SendOptions.NONE);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(1))
        .until(() -> !unanswered.isDone());

    long started = System.nanoTime();
    transport.close();
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    // Not before the bound: the broker answered nothing, so the guard had to cut the connections.
    // Without it each of the 8 partition consumers would wait twice the RPC timeout (cancel and
    // channel close), and without the RPC timeout 2 heart-beats (2 minutes).
    assertThat(took)
        .isGreaterThanOrEqualTo(CLOSE_TIMEOUT.plus(RPC_TIMEOUT))
        .isLessThan(CLOSE_TIMEOUT.plus(RPC_TIMEOUT).plus(Duration.ofSeconds(4)));
  }

  @Test
  void anOperationTheBrokerDoesNotAnswerFailsAfterTheRpcTimeout() {
    proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
    long started = System.nanoTime();
    // Subscribing declares the queue and starts a consumer: both wait for the broker's answer.
    assertThatThrownBy(
            () ->
                transport.subscribe(
                    new Destination.Queue("silent.commands"),
                    new ConsumerSettings(1, 10, false),
                    DeliveryHandler.settling(d -> CompletableFuture.completedFuture(null))))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("did not answer")
        .hasMessageContaining("silent.commands")
        .satisfies(
            e ->
                assertThat(((TransportException) e).errorCode())
                    .isEqualTo("parley.transport.unavailable"));
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(took)
        .isGreaterThanOrEqualTo(RPC_TIMEOUT)
        .isLessThan(RPC_TIMEOUT.plus(Duration.ofSeconds(3)));
  }

  private static Message event(String key) {
    return Message.builder()
        .header(Headers.PARTITION_KEY, key)
        .payload(key.getBytes(StandardCharsets.US_ASCII))
        .build();
  }
}
