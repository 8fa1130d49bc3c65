package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A transport given several brokers (Qpid JMS's failover list): two {@link FaultProxy}s in front of
 * the embedded broker stand for a live broker and its backup, and disabling one (its connections
 * reset, new ones refused) is that broker's loss. The transport moves to the other with its
 * subscription, and back when that one is lost in turn; at start-up a broker that does not answer
 * is passed over.
 */
class AmqpAddressesIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static AmqpTransport.Builder builder(URI uri) {
    return AmqpTransport.builder(uri)
        .heartbeat(Duration.ofSeconds(1))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(200))
        .sendTimeout(Duration.ofSeconds(5))
        .closeTimeout(Duration.ofSeconds(2));
  }

  private static Message message(String id) {
    return Message.builder().id(id).payload(new byte[] {1}).build();
  }

  @Test
  void aLostNodeMovesTheTransportAndItsSubscriptionToTheNextNode() {
    int brokerPort = broker.amqpUri().getPort();
    Destination.Queue queue = new Destination.Queue("addresses.amqp.commands");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (FaultProxy first = FaultProxy.to("127.0.0.1", brokerPort);
        FaultProxy second = FaultProxy.to("127.0.0.1", brokerPort);
        AmqpTransport transport =
            builder(URI.create("amqp://unused.invalid:1"))
                .addresses("127.0.0.1:" + first.port(), "127.0.0.1:" + second.port())
                .build()) {
      transport.subscribe(
          queue,
          new ConsumerSettings(1, 10, false),
          DeliveryHandler.settling(
              d -> {
                consumed.add(d.message().id());
                return CompletableFuture.completedFuture(null);
              }));
      assertThat(transport.send(queue, message("via-first"), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> consumed.contains("via-first"));
      assertThat(first.openConnections()).as("on the first node").isPositive();
      assertThat(second.accepted()).as("the second node, not yet tried").isZero();

      first.disable(); // the first node is lost: its connections reset, new ones refused
      await().atMost(Duration.ofSeconds(20)).until(() -> transport.reconnects() >= 1);
      await().atMost(Duration.ofSeconds(10)).until(transport::isConnected);
      assertThat(first.resets()).as("the loss happened").isPositive();
      assertThat(second.openConnections()).as("now on the second node").isPositive();
      assertThat(transport.send(queue, message("via-second"), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
      await()
          .atMost(Duration.ofSeconds(10))
          .alias("the subscription was restored on the second node")
          .until(() -> consumed.contains("via-second"));

      first.enable();
      second.disable(); // and back, when the second is lost in turn
      await().atMost(Duration.ofSeconds(20)).until(() -> transport.reconnects() >= 2);
      await().atMost(Duration.ofSeconds(10)).until(transport::isConnected);
      assertThat(first.openConnections()).as("back on the first node").isPositive();
      assertThat(transport.send(queue, message("via-first-again"), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> consumed.contains("via-first-again"));
    }
  }

  /**
   * At start-up a node that does not answer is passed over; and a broker URL naming several nodes
   * ({@code PARLEY_BROKER_URL}, {@code MessagingBuilder.brokerUri}) reaches the transport whole.
   */
  @Test
  void atStartUpANodeThatDoesNotAnswerIsPassedOverAndTheBrokerUrlMayNameTheNodes()
      throws IOException {
    int dead = closedPort();
    try (FaultProxy live = FaultProxy.to("127.0.0.1", broker.amqpUri().getPort());
        Messaging messaging =
            Messaging.builder()
                .service("addresses")
                .brokerUri("amqp://127.0.0.1:" + dead + ",127.0.0.1:" + live.port())
                .build()) {
      assertThat(messaging.transport()).isInstanceOf(AmqpTransport.class);
      assertThat(live.accepted()).isPositive();
      assertThat(
              messaging
                  .transport()
                  .send(
                      new Destination.Queue("addresses.amqp.startup"),
                      message("m"),
                      SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void whenNoNodeAnswersTheStartFailsNamingThemAll() throws IOException {
    int one = closedPort();
    int two = closedPort();
    assertThatThrownBy(
            () ->
                builder(URI.create("amqp://127.0.0.1:" + one))
                    .addresses("127.0.0.1:" + one, "127.0.0.1:" + two)
                    .startupConnectAttempts(2)
                    .build())
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("amqp://127.0.0.1:" + one + ",127.0.0.1:" + two)
        .extracting(e -> ((TransportException) e).status().errorCode())
        .isEqualTo("parley.transport.connect_failed");
  }

  /** A loopback port nothing listens on (just closed; connections to it are refused). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
