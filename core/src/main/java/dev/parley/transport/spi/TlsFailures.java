package dev.parley.transport.spi;

/**
 * How a transport tells a TLS failure that trying again only repeats — the broker's certificate
 * refused (untrusted, expired, or for another host name) — from one a retry may get past (a
 * handshake cut short while a broker starts or stops): every transport fails its start at once on
 * the first ({@code parley.<transport>.tls_failed}) and tries the second again like a lost
 * connection.
 */
public final class TlsFailures {

  private TlsFailures() {}

  /** The certificate refusal among {@code failure}'s causes, or null if there is none. */
  public static java.security.cert.CertificateException certificateRefusal(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateException refused) {
        return refused;
      }
    }
    return null;
  }
}
