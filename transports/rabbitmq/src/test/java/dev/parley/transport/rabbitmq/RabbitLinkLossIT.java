package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.Toxic;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M11 on RabbitMQ: a link that goes silent without TCP noticing (every byte
 * blackholed by a proxy, the socket open) is declared lost within about two heartbeats and replaced
 * once it heals; while it is silent but not yet declared lost, unconfirmed sends are bounded by the
 * confirm window and each caller waits at most the send timeout.
 */
class RabbitLinkLossIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  @Test
  void aSilentLinkIsDeclaredLostWithinTwoHeartbeatsAndReplaced() throws Exception {
    Duration heartbeat = Duration.ofSeconds(1);
    try (FaultProxy proxy = FaultProxy.to("127.0.0.1", 5672);
        RabbitTransport transport =
            RabbitTransport.builder(rabbit.amqpUri(proxy.port()))
                .heartbeat(heartbeat)
                .recoveryInterval(Duration.ofMillis(250))
                .sendTimeout(Duration.ofSeconds(2))
                .build()) {
      Destination.Queue queue = new Destination.Queue("link-loss.commands");
      transport.send(queue, message(1), SendOptions.NONE).get(10, TimeUnit.SECONDS);
      long reconnectsBefore = transport.reconnects();

      proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
      long silentSince = System.nanoTime();
      await()
          .atMost(heartbeat.multipliedBy(10))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !transport.isConnected());
      Duration detected = Duration.ofNanos(System.nanoTime() - silentSince);
      System.out.printf(
          "M11 RabbitMQ: a silent link declared lost after %d ms%n", detected.toMillis());
      // Nothing closed the socket: only the missing heartbeats can tell, which takes a while.
      assertThat(proxy.resets()).isZero();
      assertThat(detected)
          .isGreaterThanOrEqualTo(heartbeat)
          .isLessThanOrEqualTo(heartbeat.multipliedBy(2).plusMillis(1500));

      proxy.clearToxics();
      await().atMost(Duration.ofSeconds(20)).until(transport::isConnected);
      assertThat(transport.reconnects()).isGreaterThan(reconnectsBefore);
      assertThat(transport.send(queue, message(2), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  @Test
  void whileTheLinkIsSilentSendsAreBoundedByTheConfirmWindowAndTheSendTimeout() throws Exception {
    int window = 50;
    Duration sendTimeout = Duration.ofSeconds(1);
    try (FaultProxy proxy = FaultProxy.to("127.0.0.1", 5672);
        RabbitTransport transport =
            RabbitTransport.builder(rabbit.amqpUri(proxy.port()))
                .heartbeat(Duration.ofSeconds(60)) // not declared lost during the test
                .confirmWindow(window)
                .sendTimeout(sendTimeout)
                .closeTimeout(Duration.ofSeconds(1))
                .rpcTimeout(Duration.ofSeconds(2))
                .build()) {
      Destination.Queue queue = new Destination.Queue("link-loss.window");
      transport.send(queue, message(0), SendOptions.NONE).get(10, TimeUnit.SECONDS);

      proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      long longestCall = 0;
      long start = System.nanoTime();
      for (int i = 0; i < 3 * window; i++) { // bounded: three windows' worth
        long callStart = System.nanoTime();
        sends.add(transport.send(queue, message(i), SendOptions.NONE));
        longestCall = Math.max(longestCall, System.nanoTime() - callStart);
      }
      Duration loop = Duration.ofNanos(System.nanoTime() - start);

      for (CompletableFuture<Void> send : sends) {
        assertThat(send)
            .failsWithin(sendTimeout.multipliedBy(3))
            .withThrowableOfType(ExecutionException.class)
            .havingCause()
            .isInstanceOfSatisfying(
                TransportException.class,
                e -> assertThat(e.status().errorCode()).isEqualTo(Transport.SEND_TIMEOUT));
      }
      // The fault: the first window's sends filled it, so later callers waited for a slot.
      assertThat(Duration.ofNanos(longestCall))
          .as("the longest send() call")
          .isGreaterThan(sendTimeout.dividedBy(2))
          .isLessThan(sendTimeout.plusMillis(500));
      // Three windows' worth took about two send timeouts (the first window's sends had to time
      // out before the second's could go), not one send timeout per send.
      assertThat(loop).isLessThan(sendTimeout.multipliedBy(4));
      System.out.printf(
          "M11 RabbitMQ: %d sends on a silent link took %d ms, the longest call %d ms%n",
          sends.size(), loop.toMillis(), longestCall / 1_000_000);
    }
  }

  private static Message message(int n) {
    return Message.builder().payload(new byte[] {(byte) n}).build();
  }
}
