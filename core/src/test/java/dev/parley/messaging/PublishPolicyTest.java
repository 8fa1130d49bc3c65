package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.codec.Codecs;
import dev.parley.error.RejectedException;
import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.policy.CircuitState;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The publish path through a {@link Policy}: retries keep the message id, the breaker fails fast.
 */
class PublishPolicyTest {

  private static final Channel<String> EVENTS = Channel.event("orders", String.class);

  private final FlakyTransport transport = new FlakyTransport();

  @Test
  void retriesATransportFailureWithTheSameMessageId() throws Exception {
    Policy policy = Policy.builder().retry(3, Duration.ofMillis(1), Duration.ofMillis(2)).build();
    transport.failuresLeft.set(2);

    try (Messaging messaging = messaging(policy)) {
      Message sent = messaging.publish(EVENTS, "o-1").get(10, TimeUnit.SECONDS);

      assertThat(transport.attempts).hasSize(3);
      assertThat(transport.attempts).extracting(Message::id).containsOnly(sent.id());
      assertThat(policy.metrics().retries()).isEqualTo(2);
    }
  }

  @Test
  void breakerFailsFastWhileTheBrokerIsDown() {
    Policy policy = Policy.builder().circuitBreaker(100, 3, Duration.ofHours(1), 1).build();
    transport.failuresLeft.set(Integer.MAX_VALUE);

    try (Messaging messaging = messaging(policy)) {
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> messaging.publish(EVENTS, "x").join())
            .hasCauseInstanceOf(TransportException.class);
      }
      int attemptsAtOpen = transport.attempts.size();

      assertThatThrownBy(() -> messaging.publish(EVENTS, "y").join())
          .hasCauseInstanceOf(RejectedException.class);
      assertThat(policy.circuitState()).isEqualTo(CircuitState.OPEN);
      assertThat(transport.attempts).hasSize(attemptsAtOpen);
    }
  }

  /**
   * Events and commands are confirmed by the broker; only a request goes out unconfirmed, its reply
   * being its confirmation (a slip here once made every send unconfirmed).
   */
  @Test
  void onlyRequestsGoOutUnconfirmed() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    try (Messaging messaging = messaging(Policy.none())) {
      messaging.publish(EVENTS, "o-1").join();
      messaging.send(commands, "c-1").join();
      messaging.request(commands, "r-1", String.class, Duration.ofMillis(50));

      assertThat(transport.options)
          .containsExactly(SendOptions.NONE, SendOptions.NONE, SendOptions.REQUEST);
      assertThat(SendOptions.NONE.confirmed()).isTrue();
      assertThat(SendOptions.REPLY.confirmed()).isTrue();
      assertThat(SendOptions.REQUEST.confirmed()).isFalse();
      assertThat(SendOptions.REQUEST.persistent()).isTrue();
    }
  }

  private Messaging messaging(Policy policy) {
    return Messaging.builder()
        .service("orders")
        .transport(transport)
        .codecs(Codecs.of(new ConsumerPipelineTest.TextCodec()))
        .publishPolicy(policy)
        .build();
  }

  /** Fails the first {@code failuresLeft} sends, then accepts. */
  static final class FlakyTransport implements Transport {
    final AtomicInteger failuresLeft = new AtomicInteger();
    final List<Message> attempts = new CopyOnWriteArrayList<>();
    final List<SendOptions> options = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public CompletableFuture<Void> send(
        Destination destination, Message message, SendOptions options) {
      attempts.add(message);
      this.options.add(options);
      if (failuresLeft.getAndDecrement() > 0) {
        return CompletableFuture.failedFuture(
            new TransportException("test.down", "broker down", null));
      }
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public TransportSubscription subscribe(
        Destination source, ConsumerSettings settings, DeliveryHandler handler) {
      return () -> {}; // the reply queue of a request: nothing arrives on it here
    }

    @Override
    public void close() {}
  }
}
