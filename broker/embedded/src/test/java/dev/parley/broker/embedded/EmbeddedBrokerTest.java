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

  /**
   * A STOMP SEND over the broker's message size limit is refused with an ERROR (after which Artemis
   * closes the connection, as STOMP has a server do), the queue stays empty and its body is not
   * left on disk; one just under the limit is taken. (Artemis alone takes any size, and its
   * consumers would then be given it.)
   */
  @Test
  void aStompSendOverTheMessageSizeLimitIsRefused() throws Exception {
    broker.close();
    broker =
        EmbeddedBroker.builder()
            .dataDirectory(dir)
            .ephemeralPorts()
            .maxMessageBytes(200_000)
            .build()
            .start();

    // Artemis's ERROR says only "Error sending message"; the broker's log says why
    assertThat(stompSend("big", 300_000)).startsWith("ERROR").contains("receipt-id:big");
    assertThat(stompSend("small", 150_000)).startsWith("RECEIPT").contains("receipt-id:small");
    // Artemis may answer the RECEIPT before the queue counts the message
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(broker.messageCount("sized")).isEqualTo(1));
    // the refused message's body, written to a file as it arrived, is not left on disk
    try (java.util.stream.Stream<Path> files =
        java.nio.file.Files.list(dir.resolve("large-messages"))) {
      assertThat(files.map(f -> f.toFile().length())).containsExactly(150_000L);
    }
  }

  /**
   * A large STOMP message refused for want of permission (to an address that exists) leaves no
   * file: Artemis had written its body to one as it arrived and kept it (found 2026-12-06: a
   * 300,000-byte file per refused send, until the disk filled).
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

    // the broker's own dead-letter queue exists and "app" may not send to it
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

  @Test
  void theZeroConfigurationBrokersLimitIsReadFromItsProperty() {
    String before = System.getProperty("parley.broker.max-message-bytes");
    try {
      System.clearProperty("parley.broker.max-message-bytes");
      if (System.getenv("PARLEY_BROKER_MAX_MESSAGE_BYTES") == null) {
        assertThat(EmbeddedBrokerProvider.maxMessageBytes())
            .isEqualTo(EmbeddedBroker.DEFAULT_MAX_MESSAGE_BYTES)
            .isEqualTo(8L << 20);
      }
      System.setProperty("parley.broker.max-message-bytes", " 33554432 ");
      assertThat(EmbeddedBrokerProvider.maxMessageBytes()).isEqualTo(32L << 20);
      System.setProperty("parley.broker.max-message-bytes", "32MiB");
      assertThatThrownBy(EmbeddedBrokerProvider::maxMessageBytes)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected: a number of bytes");
      assertThatThrownBy(() -> EmbeddedBroker.builder().maxMessageBytes(100))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxMessageBytes: 100");
    } finally {
      if (before == null) {
        System.clearProperty("parley.broker.max-message-bytes");
      } else {
        System.setProperty("parley.broker.max-message-bytes", before);
      }
    }
  }

  /** Connects, sends one message of {@code bodyBytes} with a receipt, returns the answer. */
  private String stompSend(String receipt, int bodyBytes) throws IOException {
    return stompSend(null, "sized", receipt, bodyBytes);
  }

  /** As {@link #stompSend(String, int)}, as {@code user} (password "secret") if not null. */
  private String stompSend(String user, String destination, String receipt, int bodyBytes)
      throws IOException {
    try (Socket s = new Socket("127.0.0.1", broker.stompUri().getPort())) {
      s.setSoTimeout(10_000);
      java.io.OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      String login = user == null ? "" : "login:" + user + "\npasscode:secret\n";
      out.write(
          ("CONNECT\naccept-version:1.2\nhost:localhost\n" + login + "\n\0")
              .getBytes(StandardCharsets.UTF_8));
      assertThat(readFrame(in)).startsWith("CONNECTED");
      out.write(send(destination, receipt, bodyBytes));
      return readFrame(in).strip();
    }
  }

  private static byte[] send(String destination, String receipt, int bodyBytes) throws IOException {
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
    return frame.toByteArray();
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
