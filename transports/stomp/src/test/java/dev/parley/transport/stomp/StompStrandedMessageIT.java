package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Settlement;
import dev.parley.transport.spi.TransportSubscription;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RabbitMQ's STOMP plugin answers "Subscription not found", and keeps the connection, when a
 * delivery reaches a subscription it has just ended or an ACK/NACK names one: the message stays
 * unacknowledged on that connection for as long as it lives, and no MESSAGE frame ever shows it to
 * the client. Found by the full-size M6 run (`StompElasticPartitionsIT`, 2 stalls in 10 runs): a
 * partition's 10 prefetched messages sat unacknowledged on the channel of the member that owned the
 * partition again, its new subscription got nothing more, and the wait for them timed out. The
 * transport now reconnects when such an error names a subscription whose messages go back to a
 * shared queue, which gives them back.
 */
class StompStrandedMessageIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static DefaultStompTransport transport() {
    return (DefaultStompTransport)
        StompTransport.builder(URI.create("stomp://guest:guest@127.0.0.1:61613/" + rabbit.vhost()))
            .heartbeat(Duration.ofSeconds(2))
            .reconnectInterval(Duration.ofMillis(200))
            .build();
  }

  /** The plugin's error for an ACK naming a subscription it does not have (the fault). */
  private static void ackForAnEndedSubscription(DefaultStompTransport t, String subscription) {
    t.connectedClient()
        .write(StompFrame.of("ACK", Map.of("id", "T_" + subscription + "@@session-gone@@1")));
  }

  @Test
  void aMessageStrandedOnAnEndedSubscriptionIsGivenBackByANewConnection() {
    try (DefaultStompTransport t = transport()) {
      StompClient first = t.connectedClient();
      ackForAnEndedSubscription(t, "s999.1");
      await().atMost(Duration.ofSeconds(10)).until(() -> t.reconnects() > 0);
      assertThat(first.isOpen()).as("the connection holding it was dropped").isFalse();
      await().atMost(Duration.ofSeconds(10)).until(t::isConnected);
    }
  }

  /**
   * A reply queue's subscription (acknowledged by the broker on delivery, its queue gone with it)
   * stopped while a reply is still being handled keeps the connection: nothing of it can be given
   * back, so dropping the connection only cost the transport a reconnect (it did, until December
   * 2026, when a caller closed just as its last reply came).
   */
  @Test
  void aReplyQueueStoppedWhileAReplyIsHandledKeepsTheConnection() throws Exception {
    try (DefaultStompTransport t =
        (DefaultStompTransport)
            StompTransport.builder(
                    URI.create("stomp://guest:guest@127.0.0.1:61613/" + rabbit.vhost()))
                .reconnectInterval(Duration.ofMillis(200))
                .closeTimeout(Duration.ofMillis(200))
                .build()) {
      Destination.Queue replies =
          new Destination.Queue("parley.reply.stranded." + System.nanoTime());
      // The reply in hand: settled only after the stop (a handler must not block the reader).
      CompletableFuture<Settlement> inHand = new CompletableFuture<>();
      TransportSubscription sub =
          t.subscribe(
              replies,
              new ConsumerSettings(1, 10, true),
              (delivery, settlement) -> inHand.complete(settlement));
      t.send(replies, Message.builder().payload(new byte[] {1}).build(), SendOptions.REPLY)
          .get(10, TimeUnit.SECONDS);
      Settlement settlement = inHand.get(10, TimeUnit.SECONDS);
      StompClient connection = t.connectedClient();
      sub.close(); // waits out its close timeout for the reply in hand
      settlement.ack();
      await()
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(2))
          .until(() -> t.reconnects() == 0 && connection.isOpen());
    }
  }

  /** A reply queue's or the members' subscription ({@code t…}): its queue goes away with it. */
  @Test
  void anErrorNamingASubscriptionWithoutASharedQueueKeepsTheConnection() {
    try (DefaultStompTransport t = transport()) {
      StompClient first = t.connectedClient();
      ackForAnEndedSubscription(t, "t999.1");
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(3))
          .until(() -> t.reconnects() == 0 && first.isOpen());
    }
  }
}
