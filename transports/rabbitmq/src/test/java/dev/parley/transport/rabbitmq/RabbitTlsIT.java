package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.kit.TestCertificate;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
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
 * {@code amqps://}: a private RabbitMQ node with a TLS listener whose certificate (made here, JDK
 * keytool) names {@code localhost} only. A client trusting it ({@link
 * RabbitTransport.Builder#sslContext}) sends and receives through {@code localhost}; through {@code
 * 127.0.0.1} — a certificate for another host — and with the JVM's trust store, which does not know
 * it, the transport fails at once with {@code parley.rabbitmq.tls_failed}. Before (7 December 2026)
 * a private CA could not be given at all, and a refused certificate was tried again at every
 * start-up attempt (20 by default, a recovery interval apart) to end as {@code
 * parley.transport.unavailable}.
 */
class RabbitTlsIT {

  @TempDir static Path dir;
  private static RabbitNode node;
  private static SSLContext trusting;

  @BeforeAll
  static void startANodeSpeakingTls() throws Exception {
    TestCertificate made =
        TestCertificate.selfSigned(dir, TestCertificate.KeyType.RSA, "dns:localhost");
    Path certificate = made.writeCertificatePem(dir.resolve("node-cert.pem"));
    Path key = made.writeKeyPem(dir.resolve("node-key.pem"));
    trusting = made.trustingContext();

    node = RabbitNode.startTemporary(new RabbitNode.Tls(certificate, key));
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  private static URI tls(String host) {
    return URI.create("rabbitmqs://guest:guest@" + host + ":" + node.tlsPort() + "/");
  }

  @Test
  void aTrustedCertificateNamingTheHostCarriesMessages() {
    Destination.Queue queue = new Destination.Queue("tls.commands");
    Set<String> received = ConcurrentHashMap.newKeySet();
    try (RabbitTransport transport =
        RabbitTransport.builder(tls("localhost"))
            .sslContext(trusting)
            .startupConnectAttempts(1)
            .build()) {
      transport
          .send(
              queue,
              Message.builder().id("over-tls").payload(new byte[] {1}).build(),
              SendOptions.NONE)
          .join();
      TransportSubscription subscription =
          transport.subscribe(
              queue,
              new ConsumerSettings(1, 10, false),
              DeliveryHandler.settling(
                  d -> {
                    received.add(d.message().id());
                    return CompletableFuture.completedFuture(null);
                  }));
      await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("over-tls"));
      // What the other tests count on: the node's connections from this transport are TLS.
      assertThat(node.ctl().list("list_connections", "ssl")).hasSize(2).containsOnly("true");
      subscription.close();
    }
  }

  @Test
  void aCertificateForAnotherHostIsRefusedAtOnce() {
    TransportException refused =
        catchThrowableOfType(
            () ->
                RabbitTransport.builder(tls("127.0.0.1"))
                    .sslContext(trusting)
                    .startupConnectAttempts(5)
                    .build(),
            TransportException.class);

    assertThat(refused.status().errorCode()).isEqualTo("parley.rabbitmq.tls_failed");
    // the chain is trusted: what fails is the name
    assertThat(refused).hasMessageContaining("matching IP address 127.0.0.1");
  }

  @Test
  void aCertificateTheTrustStoreDoesNotKnowIsRefusedAtOnce() {
    TransportException refused =
        catchThrowableOfType(
            () -> RabbitTransport.builder(tls("localhost")).startupConnectAttempts(5).build(),
            TransportException.class);

    assertThat(refused.status().errorCode()).isEqualTo("parley.rabbitmq.tls_failed");
  }
}
