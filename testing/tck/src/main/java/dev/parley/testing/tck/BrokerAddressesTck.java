package dev.parley.testing.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A transport given several brokers ({@code addresses(..)} on its builder, or several hosts in its
 * broker URL): two {@link FaultProxy}s in front of one broker stand for two nodes, and disabling
 * the one the transport is on (its connections reset, new ones refused) is that node's loss. The
 * transport moves to the other node with its subscription, and back when that one is lost in turn;
 * at start-up a node that does not answer is passed over; when none answers the start fails naming
 * them all. Extend it in a {@code *IT} class of the transport's module.
 */
public abstract class BrokerAddressesTck {

  /** The loopback port of the broker the proxies forward to. */
  protected abstract int brokerPort();

  /**
   * A transport given these {@code host:port} addresses (short reconnect intervals and timeouts),
   * or a failure to start.
   */
  protected abstract Transport transport(String... addresses);

  /** The broker URL naming these loopback ports, separated by commas. */
  protected abstract String brokerUrl(int... ports);

  protected abstract long reconnects(Transport transport);

  protected abstract boolean isConnected(Transport transport);

  /** What the start's failure says when no node answers: the nodes of {@code ports}, named. */
  protected abstract String namesAll(int... ports);

  /** The code of that failure. */
  protected abstract String connectFailureCode();

  /** {@code 127.0.0.1:<port>} for each of {@code ports}, joined by {@code separator}. */
  protected static String loopback(String separator, int... ports) {
    return java.util.Arrays.stream(ports)
        .mapToObj(p -> "127.0.0.1:" + p)
        .collect(java.util.stream.Collectors.joining(separator));
  }

  private static Message message(String id) {
    return Message.builder().id(id).payload(new byte[] {1}).build();
  }

  @Test
  void aLostNodeMovesTheTransportAndItsSubscriptionToTheNextNode() throws Exception {
    Destination.Queue queue = new Destination.Queue("addresses.commands");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (FaultProxy first = FaultProxy.to("127.0.0.1", brokerPort());
        FaultProxy second = FaultProxy.to("127.0.0.1", brokerPort())) {
      Transport transport = transport("127.0.0.1:" + first.port(), "127.0.0.1:" + second.port());
      try {
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
        // The node the transport is on (a transport may take its nodes in turn or at random; one
        // with several connections may have them on both).
        FaultProxy on = first.openConnections() > 0 ? first : second;
        FaultProxy other = on == first ? second : first;

        on.disable(); // that node is lost: its connections reset, new ones refused
        await().atMost(Duration.ofSeconds(20)).until(() -> reconnects(transport) >= 1);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> isConnected(transport) && on.openConnections() == 0);
        assertThat(on.resets()).as("the loss happened").isPositive();
        assertThat(other.openConnections()).as("now on the other node").isPositive();
        assertThat(transport.send(queue, message("via-other"), SendOptions.NONE))
            .succeedsWithin(Duration.ofSeconds(10));
        await()
            .atMost(Duration.ofSeconds(10))
            .alias("the subscription was restored on the other node")
            .until(() -> consumed.contains("via-other"));

        long before = reconnects(transport);
        on.enable();
        other.disable(); // and back, when the other is lost in turn
        await().atMost(Duration.ofSeconds(20)).until(() -> reconnects(transport) > before);
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> isConnected(transport) && other.openConnections() == 0);
        assertThat(on.openConnections()).as("back on the first node").isPositive();
        assertThat(transport.send(queue, message("via-first-again"), SendOptions.NONE))
            .succeedsWithin(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> consumed.contains("via-first-again"));
      } finally {
        transport.close();
      }
    }
  }

  /**
   * At start-up a node that does not answer is passed over; and a broker URL naming several nodes
   * ({@code PARLEY_BROKER_URL}, {@code MessagingBuilder.brokerUri}) reaches the transport whole.
   */
  @Test
  void atStartUpANodeThatDoesNotAnswerIsPassedOverAndTheBrokerUrlMayNameTheNodes() {
    int dead = closedPort();
    try (FaultProxy live = FaultProxy.to("127.0.0.1", brokerPort());
        Messaging messaging =
            Messaging.builder()
                .service("addresses")
                .brokerUri(brokerUrl(dead, live.port()))
                .build()) {
      assertThat(live.accepted()).isPositive();
      assertThat(
              messaging
                  .transport()
                  .send(new Destination.Queue("addresses.startup"), message("m"), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void whenNoNodeAnswersTheStartFailsNamingThemAll() {
    int one = closedPort();
    int two = closedPort();
    assertThatThrownBy(() -> transport("127.0.0.1:" + one, "127.0.0.1:" + two))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining(namesAll(one, two))
        .extracting(e -> ((TransportException) e).status().errorCode())
        .isEqualTo(connectFailureCode());
  }

  /** A loopback port nothing listens on (just closed; connections to it are refused). */
  private static int closedPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
