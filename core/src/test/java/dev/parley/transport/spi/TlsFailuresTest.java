package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class TlsFailuresTest {

  @Test
  void aRefusedCertificateIsFoundAmongTheCauses() {
    CertificateException refused = new CertificateException("No subject alternative names");
    SSLHandshakeException handshake = new SSLHandshakeException("handshake failed");
    handshake.initCause(refused);
    assertThat(TlsFailures.certificateRefusal(new IOException("connect", handshake)))
        .isSameAs(refused);
  }

  @Test
  void aHandshakeCutShortIsNoRefusal() {
    SSLHandshakeException cut = new SSLHandshakeException("Remote host terminated the handshake");
    cut.initCause(new java.io.EOFException("SSL peer shut down incorrectly"));
    assertThat(TlsFailures.certificateRefusal(cut)).isNull();
    assertThat(TlsFailures.certificateRefusal(null)).isNull();
  }
}
