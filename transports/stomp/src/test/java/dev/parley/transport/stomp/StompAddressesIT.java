package dev.parley.transport.stomp;

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
 * A transport given several nodes: two {@link FaultProxy}s in front of the embedded broker stand
 * for two nodes, and disabling one (its connections reset, new ones refused) is that node's loss.
 * The transport moves to the other node with its subscription, and back when that one is lost in
 * turn; at start-up a node that does not answer is passed over.
 */
class StompAddressesIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static StompTransport.Builder builder(URI uri) {
    return StompTransport.builder(uri)
        .heartbeat(Duration.ofMillis(500))
        .connectTimeout(Duration.ofSeconds(1))
        .reconnectInterval(Duration.ofMillis(100))
        .sendTimeout(Duration.ofSeconds(5))
        .closeTimeout(Duration.ofSeconds(2));
  }

  private static Message message(String id) {
    return Message.builder().id(id).payload(new byte[] {1}).build();
  }

  @Test
  void aLostNodeMovesTheTransportAndItsSubscriptionToTheNextNode() {
    int brokerPort = broker.stompUri().getPort();
    Destination.Queue queue = new Destination.Queue("addresses.commands");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (FaultProxy first = FaultProxy.to("127.0.0.1", brokerPort);
        FaultProxy second = FaultProxy.to("127.0.0.1", brokerPort);
        StompTransport transport =
            builder(URI.create("stomp://unused.invalid:1/"))
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
    try (FaultProxy live = FaultProxy.to("127.0.0.1", broker.stompUri().getPort());
        Messaging messaging =
            Messaging.builder()
                .service("addresses")
                .brokerUri("stomp://guest:guest@127.0.0.1:" + dead + ",127.0.0.1:" + live.port())
                .build()) {
      assertThat(messaging.transport()).isInstanceOf(StompTransport.class);
      assertThat(live.accepted()).isPositive();
      assertThat(
              messaging
                  .transport()
                  .send(new Destination.Queue("addresses.startup"), message("m"), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void whenNoNodeAnswersTheStartFailsNamingThemAll() throws IOException {
    int one = closedPort();
    int two = closedPort();
    assertThatThrownBy(
            () ->
                builder(URI.create("stomp://127.0.0.1:" + one + "/"))
                    .addresses("127.0.0.1:" + one, "127.0.0.1:" + two)
                    .startupConnectAttempts(2)
                    .build())
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("127.0.0.1:" + one + ", 127.0.0.1:" + two)
        .extracting(e -> ((TransportException) e).status().errorCode())
        .isEqualTo("parley.transport.connect");
  }

  /** A loopback port nothing listens on (just closed; connections to it are refused). */
  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
