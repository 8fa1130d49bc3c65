package dev.parley.testing.kit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.Toxic.Direction;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class FaultProxyTest {

  private ServerSocket echo;
  private FaultProxy proxy;

  @BeforeEach
  void startEchoServer() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread t =
                      new Thread(
                          () -> {
                            try (s;
                                InputStream in = s.getInputStream();
                                OutputStream out = s.getOutputStream()) {
                              in.transferTo(out);
                            } catch (IOException ignored) {
                              // client went away
                            }
                          });
                  t.setDaemon(true);
                  t.start();
                } catch (IOException e) {
                  return;
                }
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
    proxy = FaultProxy.to("127.0.0.1", echo.getLocalPort());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  @Test
  void forwardsBytesIntactThroughSlicerAndBandwidthToxics() throws IOException {
    proxy
        .add(Toxic.slicer(Direction.DOWNSTREAM, 7, Duration.ZERO))
        .add(Toxic.bandwidth(Direction.UPSTREAM, 1_000_000));
    byte[] payload = new byte[20_000];
    new Random(1).nextBytes(payload);

    try (Socket s = connect()) {
      s.getOutputStream().write(payload);

      assertThat(s.getInputStream().readNBytes(payload.length)).isEqualTo(payload);
    }
    assertThat(proxy.accepted()).isEqualTo(1);
  }

  @Test
  void latencyDelaysEachChunk() throws IOException {
    proxy.add(Toxic.latency(Direction.DOWNSTREAM, Duration.ofMillis(200)));

    try (Socket s = connect()) {
      long start = System.nanoTime();
      s.getOutputStream().write(1);
      int echoed = s.getInputStream().read();
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(echoed).isEqualTo(1);
      assertThat(elapsedMillis).isGreaterThanOrEqualTo(200);
    }
  }

  @Test
  void resetAllResetsOpenConnections() throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(1);
      assertThat(s.getInputStream().read()).isEqualTo(1);

      proxy.resetAll();

      assertThatThrownBy(
              () -> {
                s.getOutputStream().write(2);
                s.getInputStream().read();
              })
          .isInstanceOf(SocketException.class);
      assertThat(proxy.resets()).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
  }

  @Test
  void resetPeerResetsTheConnectionWhenDataNextFlows() throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(1);
      assertThat(s.getInputStream().read()).isEqualTo(1);

      proxy.add(Toxic.resetPeer(Direction.UPSTREAM, Duration.ZERO));
      s.getOutputStream().write(2); // dropped; the connection is reset instead

      assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketException.class);
      assertThat(proxy.resets()).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
  }

  @Test
  void limitDataClosesAfterTheLimit() throws IOException {
    proxy.add(Toxic.limitData(Direction.DOWNSTREAM, 10));

    try (Socket s = connect()) {
      s.getOutputStream().write(new byte[100]);

      byte[] received = s.getInputStream().readAllBytes();

      assertThat(received).hasSize(10);
    }
  }

  @Test
  void timeoutToxicBlackholesData() throws IOException {
    proxy.add(Toxic.timeout(Direction.UPSTREAM));

    try (Socket s = connect()) {
      s.setSoTimeout(300);
      s.getOutputStream().write(1);

      assertThatThrownBy(() -> s.getInputStream().read())
          .isInstanceOf(SocketTimeoutException.class);

      proxy.clearToxics();
      s.setSoTimeout(5_000);
      s.getOutputStream().write(2);
      assertThat(s.getInputStream().read()).isEqualTo(2);
    }
  }

  @Test
  void disabledProxyRefusesConnectionsUntilEnabled() throws IOException {
    proxy.disable();

    try (Socket s = connect()) {
      s.setSoTimeout(5_000);
      assertThatThrownBy(
              () -> {
                s.getOutputStream().write(1);
                if (s.getInputStream().read() >= 0) {
                  throw new AssertionError("a disabled proxy answered");
                }
                throw new SocketException("closed");
              })
          .isInstanceOf(IOException.class);
    }

    proxy.enable();
    try (Socket s = connect()) {
      s.getOutputStream().write(3);
      assertThat(s.getInputStream().read()).isEqualTo(3);
    }
    assertThat(Arrays.asList(proxy.accepted())).containsExactly(1L);
  }

  private Socket connect() throws IOException {
    return new Socket("127.0.0.1", proxy.port());
  }
}
