package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.RabbitVhostExtension;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
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
