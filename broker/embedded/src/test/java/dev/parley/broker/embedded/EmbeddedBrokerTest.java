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

  /**
   * A large STOMP message refused for want of permission (to an address that exists) leaves no
   * file: Artemis writes a large message's body to a file as it arrives and deletes it with the
   * message's last reference, which a refused message never had (found 2026-12-06: a 300,000-byte
   * file per refused send, kept for good — a sender refused again and again fills the disk).
   */
  @Test
  void aLargeMessageRefusedForWantOfPermissionLeavesNoFile() throws Exception {
    broker.close();
    broker =
        EmbeddedBroker.builder()
            .dataDirectory(dir)
            .ephemeralPorts()
            .user("app", "secret")
            .allowSend("app", "ok.#")
            .build()
            .start();

    // the broker's own dead-letter queue exists, and "app" may not send to it
    for (int i = 0; i < 3; i++) {
      assertThat(stompSend("app", "parley.broker.dlq", "r" + i, 300_000))
          .startsWith("ERROR")
          .contains("receipt-id:r" + i);
    }
    assertThat(stompSend("app", "ok.queue", "taken", 150_000)).startsWith("RECEIPT");

    try (java.util.stream.Stream<Path> files =
        java.nio.file.Files.list(dir.resolve("large-messages"))) {
      assertThat(files.map(f -> f.toFile().length())).containsExactly(150_000L);
    }
  }

  /**
   * Connects as {@code user} (password "secret"), sends one message of {@code bodyBytes} to the
   * anycast {@code destination} with a receipt, and returns the broker's answer.
   */
  private String stompSend(String user, String destination, String receipt, int bodyBytes)
      throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.stompUri().getPort())) {
      s.setSoTimeout(10_000);
      java.io.OutputStream out = s.getOutputStream();
      out.write(
          ("CONNECT\naccept-version:1.2\nhost:localhost\nlogin:" + user + "\npasscode:secret\n\n\0")
              .getBytes(StandardCharsets.UTF_8));
      InputStream in = s.getInputStream();
      assertThat(readFrame(in)).startsWith("CONNECTED");
      ByteArrayOutputStream frame = new ByteArrayOutputStream();
      frame.write(
          ("SEND\ndestination:"
                  + destination
                  + "\ndestination-type:ANYCAST\nreceipt:"
                  + receipt
                  + "\ncontent-length:"
                  + bodyBytes
                  + "\n\n")
              .getBytes(StandardCharsets.UTF_8));
      frame.write(new byte[bodyBytes]);
      frame.write(0);
      out.write(frame.toByteArray());
      return readFrame(in).strip();
    }
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
