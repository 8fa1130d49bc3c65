package dev.parley.testing.kit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate and its key for a test's TLS server, made with the JDK's {@code
 * keytool} (nothing to install) in a PKCS#12 key store, valid for two days:
 *
 * <pre>{@code
 * TestCertificate cert = TestCertificate.selfSigned(dir, TestCertificate.KeyType.EC, "dns:localhost");
 * broker.tls(cert.keyStore(), cert.password());          // the server
 * transport.sslContext(cert.trustingContext());          // a client that trusts it
 * }</pre>
 */
public final class TestCertificate {

  /** The key pair's algorithm. */
  public enum KeyType {
    /** P-256. */
    EC,
    /** 2048 bits (what an Erlang TLS listener takes from a PEM key most plainly). */
    RSA
  }

  private static final String ALIAS = "server";
  private static final String PASSWORD = "changeit";

  private final Path keyStore;
  private final KeyStore keys;

  private TestCertificate(Path keyStore, KeyStore keys) {
    this.keyStore = keyStore;
    this.keys = keys;
  }

  /**
   * Makes the certificate in {@code dir} for {@code CN=localhost} with the subject alternative
   * names given as keytool takes them ({@code dns:localhost}, {@code ip:127.0.0.1}): a client
   * verifying host names accepts it only for those.
   */
  public static TestCertificate selfSigned(Path dir, KeyType type, String... subjectAltNames) {
    if (subjectAltNames.length == 0) {
      throw new IllegalArgumentException("subjectAltNames: none");
    }
    Path keyStore = dir.resolve("server-" + type.name().toLowerCase() + ".p12");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of("-genkeypair", "-alias", ALIAS, "-keyalg", type.name()));
    command.addAll(
        type == KeyType.EC ? List.of("-groupname", "secp256r1") : List.of("-keysize", "2048"));
    command.addAll(
        List.of(
            "-dname",
            "CN=localhost",
            "-ext",
            "SAN=" + String.join(",", subjectAltNames),
            "-validity",
            "2",
            "-storetype",
            "PKCS12",
            "-keystore",
            keyStore.toString(),
            "-storepass",
            PASSWORD,
            "-keypass",
            PASSWORD));
    try {
      Process keytool = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
        keytool.destroyForcibly();
        throw new IllegalStateException("keytool failed: " + output);
      }
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keyStore)) {
        keys.load(in, PASSWORD.toCharArray());
      }
      return new TestCertificate(keyStore, keys);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the key store keytool wrote", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** The PKCS#12 key store holding the key and the certificate. */
  public Path keyStore() {
    return keyStore;
  }

  /** The key store's and the key's password. */
  public String password() {
    return PASSWORD;
  }

  public Certificate certificate() {
    try {
      return keys.getCertificate(ALIAS);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A TLS context trusting this certificate alone (as a private CA would be trusted). */
  public SSLContext trustingContext() {
    try {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry(ALIAS, certificate());
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the certificate as PEM to {@code file}. */
  public Path writeCertificatePem(Path file) {
    try {
      return Files.writeString(file, pem("CERTIFICATE", certificate().getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the private key as PEM (PKCS#8, unencrypted) to {@code file}. */
  public Path writeKeyPem(Path file) {
    try {
      return Files.writeString(
          file, pem("PRIVATE KEY", keys.getKey(ALIAS, PASSWORD.toCharArray()).getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
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
}
