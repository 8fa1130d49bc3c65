package dev.parley.rpc;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificate authorities and certificates made in the test, written as PEM files. */
final class TestPki {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key, with their PEM files. */
  record Issued(X509Certificate certificate, KeyPair keys, Path certificatePem, Path keyPem) {}

  private final Path dir;

  TestPki(Path dir) {
    this.dir = dir;
  }

  static KeyPair ecKeys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  /** A self-signed certificate authority. */
  Issued authority(String name) throws Exception {
    KeyPair keys = ecKeys();
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder b = builder(subject, subject, keys);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    return write(name, sign(b, keys), keys);
  }

  /**
   * A leaf certificate issued by {@code ca} with common name {@code cn} and the given subject
   * alternative names ({@link GeneralName}s), for a server or a client.
   */
  Issued leaf(Issued ca, String cn, GeneralName... alternativeNames) throws Exception {
    KeyPair keys = ecKeys();
    X509v3CertificateBuilder b =
        builder(
            new X500Name(ca.certificate().getSubjectX500Principal().getName()),
            new X500Name("CN=" + cn),
            keys);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    if (alternativeNames.length > 0) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alternativeNames));
    }
    return write(cn.replaceAll("[^A-Za-z0-9-]", "_"), sign(b, ca.keys()), keys);
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(Duration.ofDays(1))),
        subject,
        keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuerKeys)
      throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
  }

  private Issued write(String name, X509Certificate certificate, KeyPair keys) throws IOException {
    Path cert = dir.resolve(name + ".crt.pem");
    Path key = dir.resolve(name + ".key.pem");
    Files.writeString(cert, pem(certificate));
    // PKCS#8, what Netty reads
    Files.writeString(
        key,
        "-----BEGIN PRIVATE KEY-----\n"
            + java.util.Base64.getMimeEncoder(
                    64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(keys.getPrivate().getEncoded())
            + "\n-----END PRIVATE KEY-----\n");
    return new Issued(certificate, keys, cert, key);
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }
}
