package dev.parley.rpc;

import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.Status;
import dev.parley.security.Identity;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Establishes who is calling an {@link RpcServer} from what the call presents: a verified client
 * certificate ({@link #clientCertificate()}) or a bearer token ({@link JwtAuthenticator}).
 *
 * <p>Returns empty when the call presents no credentials of its kind (the next authenticator is
 * asked); throws {@link #unauthenticated} when it presents them but they do not hold. Called on
 * Armeria's event loop for every call before anything else: it must not block (a JWKS fetch is
 * cached and refreshed by the authenticator, not per call).
 */
@FunctionalInterface
public interface Authenticator {

  /**
   * What a call presents.
   *
   * @param header a request header (REST) or metadata entry (gRPC) by name, null when absent
   * @param peerCertificates the client's certificate chain, verified by the TLS handshake against
   *     the server's {@linkplain RpcServer.Builder#clientCertificates trusted authorities}; empty
   *     without one
   */
  record Presented(Function<String, String> header, List<X509Certificate> peerCertificates) {
    public Presented {
      peerCertificates = List.copyOf(peerCertificates);
    }
  }

  /** The caller's identity; empty when {@code presented} carries no credentials of this kind. */
  Optional<Identity> authenticate(Presented presented);

  /** The failure to throw for credentials that are present but do not hold (401). */
  static ParleyException unauthenticated(String errorCode, String message) {
    return Status.of(Code.UNAUTHENTICATED, errorCode, message).asException();
  }

  /**
   * The identity in a client certificate the TLS handshake verified: its first SPIFFE-style URI
   * subject alternative name, else its first DNS name, else its subject's common name; mechanism
   * {@code mtls}, no scopes.
   */
  static Authenticator clientCertificate() {
    return presented -> {
      if (presented.peerCertificates().isEmpty()) {
        return Optional.empty();
      }
      X509Certificate leaf = presented.peerCertificates().get(0);
      return Optional.of(new Identity(nameOf(leaf), Set.of(), "mtls"));
    };
  }

  private static String nameOf(X509Certificate certificate) {
    String dns = null;
    try {
      var names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          int type = (Integer) name.get(0);
          if (type == 6) { // uniformResourceIdentifier
            return (String) name.get(1);
          }
          if (type == 2 && dns == null) { // dNSName
            dns = (String) name.get(1);
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw unauthenticated(
          "parley.auth.bad_certificate", "client certificate: unreadable alternative names");
    }
    if (dns != null) {
      return dns;
    }
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      // fall through: no usable name
    }
    throw unauthenticated(
        "parley.auth.bad_certificate", "client certificate names no service (no SAN, no CN)");
  }
}
