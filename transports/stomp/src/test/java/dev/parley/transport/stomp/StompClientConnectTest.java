package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connect timeout bounds the TCP connect and the STOMP handshake without putting a timeout on
 * the socket itself (which would leave it non-blocking, see {@code StompClient.connect}): a peer
 * that accepts and never answers fails the connect in time, and a connection made in time outlives
 * the timeout.
 */
class StompClientConnectTest {

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private StompClient connect(int port, Duration timeout) throws Exception {
    return StompClient.connect(
        "127.0.0.1",
        port,
        null,
        "/",
        null,
        null,
        Duration.ZERO,
        timeout,
        1 << 20,
        null,
        "test",
        timer,
        frame -> {},
        cause -> {});
  }

  @Test
  void aPeerThatNeverAnswersFailsTheConnectWithinTheTimeout() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Socket> accepted = CompletableFuture.supplyAsync(() -> accept(server));
      long start = System.nanoTime();

      assertThatThrownBy(() -> connect(server.getLocalPort(), Duration.ofMillis(300)))
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("within PT0.3S");

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      // the peer did accept: the handshake, not the TCP connect, was cut short
      try (Socket peer = accepted.get()) {
        assertThat(peer.getInputStream().read(new byte[64])).isPositive(); // the CONNECT frame
      }
    }
  }

  @Test
  void aConnectionMadeInTimeOutlivesTheTimeout() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Socket> accepted =
          CompletableFuture.supplyAsync(
              () -> {
                Socket s = accept(server);
                try {
                  readFrame(s.getInputStream()); // CONNECT
                  OutputStream out = s.getOutputStream();
                  out.write(
                      "CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0"
                          .getBytes(StandardCharsets.UTF_8));
                  out.flush();
                  return s;
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });

      try (StompClient client = connect(server.getLocalPort(), Duration.ofMillis(200));
          Socket peer = accepted.get()) {
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(3)).until(client::isOpen);
        client.write("SEND", Map.of("destination", "q"), new byte[] {'x'});
        assertThat(readFrame(peer.getInputStream())).startsWith("SEND\n").contains("destination:q");
      }
    }
  }

  private static Socket accept(ServerSocket server) {
    try {
      return server.accept();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads up to the NUL that ends a frame. */
  private static String readFrame(InputStream in) throws Exception {
    StringBuilder frame = new StringBuilder();
    int b;
    while ((b = in.read()) > 0) {
      frame.append((char) b);
    }
    return frame.toString();
  }
}
