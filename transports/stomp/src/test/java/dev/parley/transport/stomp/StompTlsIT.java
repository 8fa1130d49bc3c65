package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.TestCertificate;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stomps://}: STOMP over TLS to the embedded Artemis with a certificate made here (JDK
 * keytool). A client that trusts the certificate sends and receives; one that does not (the JVM's
 * trust store) fails at once with a typed error and never falls back to plaintext; the broker's TLS
 * port answers no plaintext STOMP.
 */
class StompTlsIT {

  record Note(String text) {}

  @TempDir static Path dir;
  private static EmbeddedBroker broker;
  private static SSLContext trusting;

  @BeforeAll
  static void startABrokerSpeakingTls() throws Exception {
    TestCertificate certificate =
        TestCertificate.selfSigned(
            dir, TestCertificate.KeyType.EC, "ip:127.0.0.1", "dns:localhost");
    trusting = certificate.trustingContext();

    broker =
        EmbeddedBroker.builder()
            .dataDirectory(dir.resolve("data"))
            .ephemeralPorts()
            .tls(certificate.keyStore(), certificate.password())
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void aTrustingClientSendsAndReceivesOverTls() throws Exception {
    assertThat(broker.stompUri().getScheme()).isEqualTo("stomps");
    List<Note> received = new CopyOnWriteArrayList<>();
    Channel<Note> notes = Channel.event("tls.notes", Note.class);
    try (StompTransport transport =
            StompTransport.builder(broker.stompUri()).sslContext(trusting).build();
        Messaging m =
            Messaging.builder()
                .service("tls-test")
                .transport(transport) // given, so closed here, after the Messaging
                .codecs(Codecs.of(JsonCodec.of()))
                .build()) {
      m.subscribe(notes, "reader", (n, c) -> received.add(n));
      m.publish(notes, new Note("over tls")).get(15, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(15)).until(() -> received.size() == 1);
    }
    assertThat(received).containsExactly(new Note("over tls"));
  }

  @Test
  void anUntrustedCertificateFailsAtOnceWithoutPlaintext() throws Exception {
    long start = System.nanoTime();
    TransportException refused =
        catchThrowableOfType(
            TransportException.class,
            () ->
                StompTransport.builder(broker.stompUri())
                    .startupConnectAttempts(5)
                    .reconnectInterval(Duration.ofSeconds(5))
                    .build());
    assertThat(refused).isNotNull();
    assertThat(refused.status().errorCode()).isEqualTo("parley.stomp.tls_failed");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("no retries of a certificate refusal (5 attempts 5 s apart would take 20 s)")
        .isLessThan(Duration.ofSeconds(15));

    // the port speaks TLS only: a plaintext CONNECT gets no CONNECTED
    try (Socket plain = new Socket(broker.stompUri().getHost(), broker.stompUri().getPort())) {
      plain.setSoTimeout(5_000);
      plain.getOutputStream().write("CONNECT\naccept-version:1.2\nhost:/\n\n\0".getBytes());
      plain.getOutputStream().flush();
      byte[] answer = new byte[64];
      int n;
      try {
        n = plain.getInputStream().read(answer);
      } catch (java.io.IOException e) {
        n = -1;
      }
      String text =
          n <= 0 ? "" : new String(answer, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(text).doesNotContain("CONNECTED");
    }
  }
}
