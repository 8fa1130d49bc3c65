package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.RecordingHandler;
import dev.parley.testing.tck.TransportTck.Event;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker restarted with a login it refuses for a while (a security backend not up yet,
 * credentials rotated out of order), then restarted as before. Qpid JMS stops reconnecting for good
 * on a refused login; the transport makes a new connection by itself once the broker takes the
 * login again, and its sends and subscriptions work on it. Before (probed 2026-12-06), the
 * transport stayed dead for as long as the process lived: every send failed with "The Session was
 * closed due to an unrecoverable error", every subscription received nothing.
 */
@Timeout(120)
class LoginRefusedAfterRestartIT {

  @Test
  void theTransportConnectsAgainOnceTheBrokerTakesTheLoginAgain(@TempDir Path journal)
      throws Exception {
    int amqpPort = freePort();
    int stompPort = freePort();
    EmbeddedBroker broker = broker(journal, amqpPort, stompPort, "right").start();
    try (AmqpTransport transport =
            AmqpTransport.builder(URI.create("amqp://app:right@127.0.0.1:" + amqpPort))
                .sendTimeout(Duration.ofSeconds(2))
                .reconnectDelay(Duration.ofMillis(100))
                .maxReconnectDelay(Duration.ofMillis(500))
                .build();
        Messaging messaging = Messaging.builder().service("login").transport(transport).build()) {
      Channel<Event> channel = Channel.event("login.events", Event.class);
      RecordingHandler<Event> handler = RecordingHandler.succeeding();
      messaging.subscribe(channel, "g", handler);
      messaging.publish(channel, new Event("k", 0, "before")).join();
      await().atMost(Duration.ofSeconds(10)).until(() -> handler.callCount() == 1);

      broker.stop();
      broker = broker(journal, amqpPort, stompPort, "other").start();
      // The fault: the broker is up and refuses the transport's login.
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(10))
          .until(() -> !transport.isConnected());
      broker.stop();
      broker = broker(journal, amqpPort, stompPort, "right").start();

      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> messaging.publish(channel, new Event("k", 1, "after")).get() != null);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> handler.payloads().stream().anyMatch(e -> e.text().equals("after")));
      assertThat(transport.reconnects()).isPositive();

      // A subscription made after the new connection was swapped in consumes on it.
      RecordingHandler<Event> later = RecordingHandler.succeeding();
      messaging.subscribe(channel, "later", later);
      messaging.publish(channel, new Event("k", 2, "later")).join();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> later.payloads().stream().anyMatch(e -> e.text().equals("later")));
    } finally {
      broker.stop();
    }
  }

  /**
   * Closing the transport while its login is refused ends the thread that tries a new connection at
   * once, even when its next try is far off.
   */
  @Test
  void closingWhileTheLoginIsRefusedEndsTheTriesAtOnce(@TempDir Path journal) throws Exception {
    int amqpPort = freePort();
    int stompPort = freePort();
    EmbeddedBroker broker = broker(journal, amqpPort, stompPort, "right").start();
    try {
      AmqpTransport transport =
          AmqpTransport.builder(URI.create("amqp://app:right@127.0.0.1:" + amqpPort))
              .reconnectDelay(Duration.ofSeconds(3))
              .maxReconnectDelay(Duration.ofSeconds(60))
              .build();
      broker.stop();
      broker = broker(journal, amqpPort, stompPort, "other").start();
      // The fault: Qpid JMS gave the connection up (refused login); the transport's tries began.
      // It waits 3 s before its first try; close comes at the start of that wait.
      await()
          .pollInterval(Duration.ofMillis(10))
          .atMost(Duration.ofSeconds(60))
          .until(() -> connectAgainThreads() == 1);

      transport.close();

      await().atMost(Duration.ofMillis(500)).until(() -> connectAgainThreads() == 0);
    } finally {
      broker.stop();
    }
  }

  private static long connectAgainThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("parley-amqp-connect-again") && t.isAlive())
        .count();
  }

  private static EmbeddedBroker broker(Path journal, int amqpPort, int stompPort, String password) {
    return EmbeddedBroker.builder()
        .dataDirectory(journal)
        .amqpPort(amqpPort)
        .stompPort(stompPort)
        .user("app", password)
        .allowSend("app", "#")
        .allowConsume("app", "#")
        .build();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
