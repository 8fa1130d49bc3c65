package dev.parley.broker.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded broker's acceptors and lock-down (RELIABILITY.md S4), spoken to over raw sockets.
 */
@Timeout(60)
class EmbeddedBrokerTest {

  @TempDir Path dir;
  private EmbeddedBroker broker;

  @BeforeEach
  void start() {
    broker = EmbeddedBroker.builder().dataDirectory(dir).ephemeralPorts().build().start();
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  /**
   * This module's tests log through slf4j-simple at its default level, INFO: Artemis's message
   * audit log is on, as in an application that did not turn it down, and the user is told how to.
   */
  @Test
  void aMessageAuditLogLetThroughIsNamedWithItsFix() {
    assertThat(
            org.slf4j.LoggerFactory.getLogger(EmbeddedBroker.MESSAGE_AUDIT_LOGGER).isInfoEnabled())
        .as("the fault: this test's logging lets the audit log through")
        .isTrue();

    assertThat(EmbeddedBroker.auditWarning())
        .contains("org.apache.activemq.audit.message")
        .contains("org.slf4j.simpleLogger.log.org.apache.activemq.audit=warn")
        .contains("logging.level.org.apache.activemq.audit=warn");
  }

  @Test
  void stompAcceptorSpeaksStomp12() throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.stompUri().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              "CONNECT\naccept-version:1.2\nhost:localhost\n\n\0".getBytes(StandardCharsets.UTF_8));

      String frame = readFrame(s.getInputStream());

      assertThat(frame).startsWith("CONNECTED").contains("version:1.2");
    }
  }

  @Test
  void amqpPortRefusesOtherProtocols() throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.amqpUri().getPort())) {
      s.setSoTimeout(3_000);
      // An OpenWire client opens with its wire-format frame; the AMQP-only acceptor must not talk
      // to it.
      s.getOutputStream()
          .write(new byte[] {0, 0, 0, 0x20, 1, 'A', 'c', 't', 'i', 'v', 'e', 'M', 'Q'});

      int reply = readAll(s.getInputStream()).length;

      assertThat(reply).as("bytes an OpenWire client would get back").isLessThanOrEqualTo(8);
    }
    try (Socket s = new Socket("127.0.0.1", broker.amqpUri().getPort())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0});

      byte[] header = s.getInputStream().readNBytes(8);

      assertThat(new String(header, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("AMQP");
    }
  }

  @Test
  void refusesToListenBeyondLoopbackWithoutUsers() {
    assertThatThrownBy(
            () -> EmbeddedBroker.builder().dataDirectory(dir.resolve("x")).host("8.8.8.8").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback");
    // with users (authentication on) it may be exposed; built, not started
    assertThat(
            EmbeddedBroker.builder()
                .dataDirectory(dir.resolve("y"))
                .host("8.8.8.8")
                .user("kitchen", "secret")
                .allowConsume("kitchen", "kitchen.#")
                .build()
                .authenticates())
        .isTrue();
    assertThatThrownBy(() -> EmbeddedBroker.builder().allowSend("nobody", "#"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void keepsItsPortsAndJournalAcrossRestart() {
    int amqp = broker.amqpUri().getPort();

    broker.stop();
    broker.start();

    assertThat(broker.isRunning()).isTrue();
    assertThat(broker.amqpUri().getPort()).isEqualTo(amqp);
    assertThat(dir.resolve("journal")).isDirectoryContaining("glob:**.amq");
  }

  private static String readFrame(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) > 0) {
      out.write(b);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static byte[] readAll(InputStream in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[256];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
      }
    } catch (IOException e) {
      // reset or timeout: the broker would not talk
    }
    return out.toByteArray();
  }
}
