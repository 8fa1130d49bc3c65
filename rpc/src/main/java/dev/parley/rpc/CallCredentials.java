package dev.parley.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientRequestContext;
import com.linecorp.armeria.client.HttpClient;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What an {@link RpcClient} presents to the servers it calls ({@link
 * RpcClient.Builder#credentials}): a bearer token, a client certificate for mutual TLS, or both
 * ({@link #and}).
 *
 * <pre>{@code
 * RpcClient kitchen = RpcClient.builder().tls(true).trust(caPem)
 *     .credentials(CallCredentials.bearer(tokenService::fetch)
 *         .and(CallCredentials.clientCertificate(chainPem, keyPem)))
 *     ...
 * }</pre>
 *
 * A token from {@link #bearer(Supplier)} is kept and fetched again 30 s before the {@code exp} it
 * carries (a JWT's), so a refreshing token source is asked once per token, not once per call; a
 * token without a readable {@code exp} is fetched for every call. Immutable and thread-safe.
 */
public final class CallCredentials {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REFRESH_BEFORE = Duration.ofSeconds(30);

  private final Supplier<String> tokens;
  private final File certificateChain;
  private final File privateKey;

  private CallCredentials(Supplier<String> tokens, File certificateChain, File privateKey) {
    this.tokens = tokens;
    this.certificateChain = certificateChain;
    this.privateKey = privateKey;
  }

  /**
   * A bearer token from {@code tokens}, kept until 30 s before its {@code exp}; called on the
   * calling thread when a token is due.
   */
  public static CallCredentials bearer(Supplier<String> tokens) {
    return new CallCredentials(
        new Refreshing(Objects.requireNonNull(tokens, "tokens"), Clock.systemUTC()), null, null);
  }

  /** A client certificate chain and its private key (PEM, PKCS#8) for mutual TLS. */
  public static CallCredentials clientCertificate(File certificateChain, File privateKey) {
    return new CallCredentials(
        null,
        Objects.requireNonNull(certificateChain, "certificateChain"),
        Objects.requireNonNull(privateKey, "privateKey"));
  }

  /** Both: this one's and {@code other}'s credentials (one token, one certificate at most). */
  public CallCredentials and(CallCredentials other) {
    if ((tokens != null && other.tokens != null)
        || (certificateChain != null && other.certificateChain != null)) {
      throw new IllegalArgumentException("two tokens or two certificates (expected: one of each)");
    }
    return new CallCredentials(
        tokens != null ? tokens : other.tokens,
        certificateChain != null ? certificateChain : other.certificateChain,
        privateKey != null ? privateKey : other.privateKey);
  }

  boolean hasCertificate() {
    return certificateChain != null;
  }

  File certificateChain() {
    return certificateChain;
  }

  File privateKey() {
    return privateKey;
  }

  /** {@code Bearer <token>}, or null without a token. */
  String authorization() {
    return tokens == null ? null : "Bearer " + tokens.get();
  }

  /** Adds the bearer token to a request, if these credentials carry one. */
  HttpResponse decorate(HttpClient delegate, ClientRequestContext ctx, HttpRequest req)
      throws Exception {
    if (tokens == null) {
      return delegate.execute(ctx, req);
    }
    String token = tokens.get();
    HttpRequest withToken =
        req.withHeaders(
            req.headers().toBuilder().set(HttpHeaderNames.AUTHORIZATION, "Bearer " + token));
    ctx.updateRequest(withToken);
    return delegate.execute(ctx, withToken);
  }

  @Override
  public String toString() {
    // never the token or the key
    return "CallCredentials["
        + (tokens != null ? "bearer token" : "")
        + (tokens != null && certificateChain != null ? ", " : "")
        + (certificateChain != null ? "client certificate " + certificateChain.getName() : "")
        + "]";
  }

  /** Keeps a token until shortly before it expires. */
  static final class Refreshing implements Supplier<String> {
    private final Supplier<String> source;
    private final Clock clock;
    private String token;
    private Instant refreshAt = Instant.MIN;

    Refreshing(Supplier<String> source, Clock clock) {
      this.source = source;
      this.clock = clock;
    }

    @Override
    public synchronized String get() {
      Instant now = clock.instant();
      if (token == null || !now.isBefore(refreshAt)) {
        String fresh = source.get();
        if (fresh == null || fresh.isBlank() || fresh.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
          throw new IllegalStateException("the token source gave no usable token");
        }
        token = fresh;
        Instant expiry = expiryOf(fresh);
        refreshAt = expiry == null ? now : expiry.minus(REFRESH_BEFORE);
      }
      return token;
    }

    /** A JWT's {@code exp}, or null when the token is not a JWT or has none. */
    static Instant expiryOf(String token) {
      String[] parts = token.split("\\.");
      if (parts.length != 3) {
        return null;
      }
      try {
        JsonNode payload =
            JSON.readTree(
                new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        JsonNode exp = payload.get("exp");
        return exp != null && exp.canConvertToLong() ? Instant.ofEpochSecond(exp.asLong()) : null;
      } catch (IOException | IllegalArgumentException e) {
        return null;
      }
    }
  }
}
