package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
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
    Path keyStore = dir.resolve("node.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "node",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                "changeit",
                "-keypass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();

    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      keys.load(in, "changeit".toCharArray());
    }
    Path certificate = dir.resolve("node-cert.pem");
    Path key = dir.resolve("node-key.pem");
    Files.writeString(certificate, pem("CERTIFICATE", keys.getCertificate("node").getEncoded()));
    Files.writeString(
        key, pem("PRIVATE KEY", keys.getKey("node", "changeit".toCharArray()).getEncoded()));

    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("node", keys.getCertificate("node"));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trusted);
    trusting = SSLContext.getInstance("TLS");
    trusting.init(null, tmf.getTrustManagers(), null);

    node = RabbitNode.startTemporary(new RabbitNode.Tls(certificate, key));
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
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
