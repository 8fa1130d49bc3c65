package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.testing.kit.TestCertificate;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code amqps://}: an embedded Artemis speaking TLS only, with a certificate (made here, JDK
 * keytool) that names {@code localhost} alone. A client trusting it ({@link
 * AmqpTransport.Builder#sslContext}) sends and receives through {@code localhost}; through {@code
 * 127.0.0.1} — a certificate for another host — and with the JVM's trust store, which does not know
 * it, the transport fails at once with {@code parley.amqp.tls_failed}.
 */
class AmqpTlsIT {

  @TempDir static Path dir;
  private static EmbeddedBroker broker;
  private static SSLContext trusting;

  @BeforeAll
  static void startABrokerSpeakingTls() {
    TestCertificate certificate =
        TestCertificate.selfSigned(dir, TestCertificate.KeyType.EC, "dns:localhost");
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
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private static URI tls(String host) {
    return URI.create("amqps://" + host + ":" + broker.amqpUri().getPort());
  }

  /** Start-up attempts that, were a refusal tried again, would take 20 s and more. */
  private static AmqpTransport.Builder retrying(URI uri) {
    return AmqpTransport.builder(uri)
        .startupConnectAttempts(5)
        .reconnectDelay(Duration.ofSeconds(5))
        .maxReconnectDelay(Duration.ofSeconds(5));
  }

  @Test
  void aTrustedCertificateNamingTheHostCarriesMessages() {
    assertThat(broker.amqpUri().getScheme()).isEqualTo("amqps");
    Destination.Queue queue = new Destination.Queue("tls.commands");
    Set<String> received = ConcurrentHashMap.newKeySet();
    try (AmqpTransport transport =
        AmqpTransport.builder(tls("localhost")).sslContext(trusting).build()) {
      transport.subscribe(
          queue,
          new ConsumerSettings(1, 10, false),
          DeliveryHandler.settling(
              d -> {
                received.add(d.message().id());
                return CompletableFuture.completedFuture(null);
              }));
      Message message = Message.builder().id("over-tls").payload(new byte[] {1}).build();
      assertThat(transport.send(queue, message, SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("over-tls"));
    }
  }

  @Test
  void aCertificateForAnotherHostFailsAtOnce() {
    long start = System.nanoTime();
    TransportException refused =
        catchThrowableOfType(
            TransportException.class,
            () -> retrying(tls("127.0.0.1")).sslContext(trusting).build());
    assertThat(refused).isNotNull();
    assertThat(refused.status().errorCode()).isEqualTo("parley.amqp.tls_failed");
    assertThat(refused).hasMessageContaining("127.0.0.1");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("no retries of a certificate refusal (5 attempts 5 s apart take 20 s)")
        .isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void aCertificateTheTrustStoreDoesNotKnowFailsAtOnce() {
    long start = System.nanoTime();
    TransportException refused =
        catchThrowableOfType(TransportException.class, () -> retrying(tls("localhost")).build());
    assertThat(refused).isNotNull();
    assertThat(refused.status().errorCode()).isEqualTo("parley.amqp.tls_failed");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void aTlsContextForAPlainUriIsRefused() {
    assertThatThrownBy(
            () -> AmqpTransport.builder(URI.create("amqp://localhost:5672")).sslContext(trusting))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("amqps://");
  }
}
