package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.Toxic;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Heart-beats find a dead link that TCP does not report: with every byte blackholed (the socket
 * stays open), the client notices the broker's silence within about two heart-beats, drops the
 * connection and makes a new one once the link heals.
 */
class StompHeartbeatIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Test
  void aSilentLinkIsDetectedByHeartbeatsAndReplaced() {
    try (FaultProxy proxy = FaultProxy.to("127.0.0.1", broker.stompUri().getPort());
        StompTransport transport =
            StompTransport.builder(URI.create("stomp://127.0.0.1:" + proxy.port()))
                .heartbeat(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(1))
                .reconnectInterval(Duration.ofMillis(200))
                .sendTimeout(Duration.ofSeconds(2))
                .build()) {
      Destination.Queue queue = new Destination.Queue("heartbeat.commands");
      transport
          .send(queue, Message.builder().payload(new byte[] {1}).build(), SendOptions.NONE)
          .join();

      proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
      // Nothing closes the socket: only the missing heart-beats can tell.
      await().atMost(Duration.ofSeconds(10)).until(() -> !transport.isConnected());
      assertThat(proxy.resets()).isZero();

      proxy.clearToxics();
      await().atMost(Duration.ofSeconds(20)).until(transport::isConnected);
      assertThat(transport.reconnects()).isPositive();
      assertThat(
              transport.send(
                  queue, Message.builder().payload(new byte[] {2}).build(), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  /**
   * A SEND whose RECEIPT never comes (every byte blackholed, heart-beats slower than the send
   * timeout, so the link is not yet declared dead) fails with {@code
   * parley.transport.send_timeout}, no sooner than the timeout.
   */
  @Test
  void aSendWithoutItsReceiptFailsWithTheSendTimeout() {
    Duration sendTimeout = Duration.ofSeconds(1);
    try (FaultProxy proxy = FaultProxy.to("127.0.0.1", broker.stompUri().getPort());
        StompTransport transport =
            StompTransport.builder(URI.create("stomp://127.0.0.1:" + proxy.port()))
                .heartbeat(Duration.ofSeconds(30))
                .sendTimeout(sendTimeout)
                .closeTimeout(Duration.ofSeconds(1))
                .build()) {
      Destination.Queue queue = new Destination.Queue("heartbeat.timeouts");
      transport
          .send(queue, Message.builder().payload(new byte[] {1}).build(), SendOptions.NONE)
          .join();

      proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
      long start = System.nanoTime();
      java.util.concurrent.CompletableFuture<Void> send =
          transport.send(
              queue, Message.builder().payload(new byte[] {2}).build(), SendOptions.NONE);

      Throwable failure =
          send.handle(
                  (v, e) ->
                      e instanceof java.util.concurrent.CompletionException ? e.getCause() : e)
              .toCompletableFuture()
              .get(10, java.util.concurrent.TimeUnit.SECONDS);
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(failure)
          .isInstanceOfSatisfying(
              dev.parley.error.TransportException.class,
              e ->
                  assertThat(e.status().errorCode())
                      .isEqualTo(dev.parley.transport.spi.Transport.SEND_TIMEOUT));
      assertThat(elapsedMillis).isGreaterThanOrEqualTo(sendTimeout.toMillis() - 5);
      assertThat(transport.isConnected()).isTrue(); // the timeout, not a lost link, ended it
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
