package dev.parley.rpc;

import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.error.RejectedException;
import dev.parley.policy.Policy;
import dev.parley.security.Access;
import dev.parley.security.Identity;
import io.netty.util.AttributeKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What every call to an {@link RpcServer} passes before its handler runs, whatever the binding:
 * {@link #admit} (the server's concurrency limit, then its policy's rate limit and bulkhead; cheap,
 * on the event loop) and {@link #authorize} (authentication, then the access rules; on the handler
 * thread, before the input is decoded).
 */
final class ServerGate {

  private static final AttributeKey<Identity> IDENTITY =
      AttributeKey.valueOf(ServerGate.class, "identity");

  private final Policy policy;
  private final Semaphore calls;
  private final int maxConcurrentCalls;
  private final List<Authenticator> authenticators;
  private final Access access;

  ServerGate(
      Policy policy, int maxConcurrentCalls, List<Authenticator> authenticators, Access access) {
    this.policy = policy;
    this.maxConcurrentCalls = maxConcurrentCalls;
    this.calls = new Semaphore(maxConcurrentCalls);
    this.authenticators = List.copyOf(authenticators);
    this.access = access;
  }

  /** A gate that only applies {@code policy} (no limit of its own, nobody authenticated). */
  static ServerGate of(Policy policy) {
    return new ServerGate(policy, Integer.MAX_VALUE, List.of(), null);
  }

  /** Empty when the call may go on (then {@link #release} it), else the refusal. */
  Optional<RejectedException> admit() {
    if (!calls.tryAcquire()) {
      return Optional.of(
          new RejectedException(
              "parley.server_busy",
              "the server is handling its limit of " + maxConcurrentCalls + " calls"));
    }
    Optional<RejectedException> refused = policy.admit();
    if (refused.isPresent()) {
      calls.release();
    }
    return refused;
  }

  /** Ends a call {@link #admit} let in. */
  void release() {
    policy.release();
    calls.release();
  }

  /** Whether calls are authenticated at all. */
  boolean authenticates() {
    return !authenticators.isEmpty();
  }

  /**
   * Authenticates the call and checks the access rules for {@code service/name}; throws the 401 /
   * 403 failure. Remembers the identity for {@link #identityOf}.
   */
  void authorize(String service, String name, ServiceRequestContext ctx, RequestHeaders headers) {
    if (authenticators.isEmpty()) {
      return;
    }
    Identity identity =
        authorize(
            service,
            name,
            new Authenticator.Presented(headers::get, certificatesOf(ctx.sslSession())));
    ctx.setAttr(IDENTITY, identity);
  }

  /** The same for a call over messaging: credentials from its headers only. */
  Identity authorize(
      String service, String name, java.util.function.Function<String, String> headers) {
    return authorize(service, name, new Authenticator.Presented(headers, List.of()));
  }

  private Identity authorize(String service, String name, Authenticator.Presented presented) {
    Identity identity = null;
    for (Authenticator authenticator : authenticators) {
      Optional<Identity> found = authenticator.authenticate(presented);
      if (found.isPresent()) {
        identity = found.get();
        break;
      }
    }
    if (identity == null) {
      throw Authenticator.unauthenticated(
          "parley.auth.missing", "no credentials (expected: a bearer token or client certificate)");
    }
    access
        .check(service, name, identity)
        .ifPresent(
            denied -> {
              throw denied.asException();
            });
    return identity;
  }

  static Optional<Identity> identityOf(ServiceRequestContext ctx) {
    return Optional.ofNullable(ctx.attr(IDENTITY));
  }

  private static List<X509Certificate> certificatesOf(SSLSession session) {
    if (session == null) {
      return List.of();
    }
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : session.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
      return chain;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  String describe() {
    String limit =
        maxConcurrentCalls == Integer.MAX_VALUE
            ? "no call limit"
            : "at most " + maxConcurrentCalls + " calls at once";
    if (authenticators.isEmpty()) {
      return limit + "; callers not authenticated";
    }
    return limit + "; authenticated by " + authenticators + "; access: " + access;
  }
}
