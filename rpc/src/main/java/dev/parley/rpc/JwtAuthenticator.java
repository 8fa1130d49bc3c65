package dev.parley.rpc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.parley.security.Identity;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Authenticates callers by a JWT in {@code Authorization: Bearer <token>} (RFC 6750), verified with
 * nimbus-jose-jwt: the signature with a key from the configured JWK set (a file, or a JWKS URL
 * fetched, cached and refreshed ahead of expiry) — never a key the token names itself; the
 * algorithm among those allowed (RS256 and ES256 by default; {@code none} and HMAC are never
 * accepted unless HMAC is asked for); the issuer exactly; the audience; {@code exp} (required) and
 * {@code nbf} within a clock skew. The identity is {@code sub} with the scopes of {@code scope}
 * (space-separated) or {@code scp}.
 *
 * <pre>{@code
 * JwtAuthenticator jwt = JwtAuthenticator.builder()
 *     .jwks(URI.create("https://auth.internal/.well-known/jwks.json"))
 *     .issuer("https://auth.internal")
 *     .audience("kitchen")
 *     .build();
 * }</pre>
 *
 * A refusal names what failed (expired, wrong audience, bad signature) with a stable error code and
 * never echoes the token. Thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {

  private final DefaultJWTProcessor<SecurityContext> processor;
  private final String description;

  private JwtAuthenticator(Builder b) {
    Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
    for (String name : b.algorithms) {
      JWSAlgorithm alg = JWSAlgorithm.parse(name);
      if (alg.getName().equalsIgnoreCase("none")) {
        throw new IllegalArgumentException("algorithms: none (expected: a signing algorithm)");
      }
      algorithms.add(alg);
    }
    processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, b.keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims =
        new DefaultJWTClaimsVerifier<>(
            Set.of(b.audience),
            new JWTClaimsSet.Builder().issuer(b.issuer).build(),
            Set.of("sub", "exp", "iss", "aud"),
            Set.of());
    claims.setMaxClockSkew((int) b.clockSkew.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
    description =
        "jwt (issuer "
            + b.issuer
            + ", audience "
            + b.audience
            + ", algorithms "
            + algorithms
            + ", keys from "
            + b.keysFrom
            + ")";
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Optional<Identity> authenticate(Presented presented) {
    String authorization = presented.header().apply("authorization");
    if (authorization == null) {
      return Optional.empty();
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw Authenticator.unauthenticated(
          "parley.auth.bad_scheme", "authorization: expected a Bearer token");
    }
    String token = authorization.substring(7).trim();
    JWTClaimsSet claims;
    try {
      claims = processor.process(token, null);
    } catch (ParseException e) {
      throw Authenticator.unauthenticated("parley.auth.malformed_token", "token: not a JWT");
    } catch (BadJWTException e) {
      throw Authenticator.unauthenticated("parley.auth.invalid_claims", "token: " + reason(e));
    } catch (BadJOSEException e) {
      throw Authenticator.unauthenticated("parley.auth.bad_signature", "token: " + reason(e));
    } catch (KeySourceException e) {
      throw Authenticator.unauthenticated(
          "parley.auth.keys_unavailable", "token: the signing keys cannot be fetched");
    } catch (JOSEException e) {
      throw Authenticator.unauthenticated("parley.auth.bad_signature", "token: not verifiable");
    }
    return Optional.of(new Identity(claims.getSubject(), scopesOf(claims), "jwt"));
  }

  /** nimbus-jose-jwt's reason, which names the check and never the token. */
  private static String reason(Exception e) {
    String m = e.getMessage() == null ? "rejected" : e.getMessage();
    m = m.length() > 120 ? m.substring(0, 120) : m;
    return m.toLowerCase(Locale.ROOT).replaceAll("[^\\x20-\\x7e]", "?");
  }

  private static Set<String> scopesOf(JWTClaimsSet claims) {
    Set<String> scopes = new LinkedHashSet<>();
    Object scope = claims.getClaim("scope");
    Object scp = claims.getClaim("scp");
    for (Object value : new Object[] {scope, scp}) {
      if (value instanceof String s) {
        for (String one : s.trim().split("\\s+")) {
          if (!one.isEmpty()) {
            scopes.add(one);
          }
        }
      } else if (value instanceof List<?> list) {
        list.forEach(v -> scopes.add(String.valueOf(v)));
      }
    }
    return scopes;
  }

  @Override
  public String toString() {
    return description;
  }

  /** Configures a {@link JwtAuthenticator}: keys, issuer and audience are required. */
  public static final class Builder {
    private JWKSource<SecurityContext> keys;
    private String keysFrom;
    private String issuer;
    private String audience;
    private List<String> algorithms = List.of("RS256", "ES256");
    private Duration clockSkew = Duration.ofSeconds(60);

    private Builder() {}

    /** The verification keys: a JWK set in a file (JSON), read now. */
    public Builder jwks(Path file) {
      try {
        keys = new ImmutableJWKSet<>(JWKSet.load(file.toFile()));
      } catch (IOException | ParseException e) {
        throw new IllegalArgumentException("jwks: " + file + " (expected: a JWK set file)", e);
      }
      keysFrom = file.getFileName().toString();
      return this;
    }

    /** The verification keys: a JWK set given in code (public keys only are used). */
    public Builder jwks(JWKSet set) {
      keys = new ImmutableJWKSet<>(set.toPublicJWKSet());
      keysFrom = "a JWK set of " + set.getKeys().size();
      return this;
    }

    /**
     * The verification keys: a JWKS URL (https outside tests), fetched on the first call, cached
     * for 5 minutes, refreshed ahead of expiry and when a token names an unknown key id (at most
     * every 30 s).
     */
    public Builder jwks(URI url) {
      try {
        keys = JWKSourceBuilder.create(url.toURL()).refreshAheadCache(true).build();
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("jwks: not a URL", e);
      }
      keysFrom =
          url.getScheme()
              + "://"
              + url.getHost()
              + (url.getPort() < 0 ? "" : ":" + url.getPort())
              + url.getPath();
      return this;
    }

    /** The {@code iss} a token must carry, exactly. */
    public Builder issuer(String issuer) {
      this.issuer = Objects.requireNonNull(issuer, "issuer");
      return this;
    }

    /** The {@code aud} a token must name (this service). */
    public Builder audience(String audience) {
      this.audience = Objects.requireNonNull(audience, "audience");
      return this;
    }

    /** The signing algorithms accepted (JOSE names); RS256 and ES256 by default. */
    public Builder algorithms(String... algorithms) {
      if (algorithms.length == 0) {
        throw new IllegalArgumentException("algorithms: none (expected: at least one)");
      }
      this.algorithms = List.of(algorithms);
      return this;
    }

    /** How far {@code exp} and {@code nbf} may be off the server's clock; 60 s by default. */
    public Builder clockSkew(Duration skew) {
      if (skew.isNegative() || skew.toSeconds() > 600) {
        throw new IllegalArgumentException("clockSkew: " + skew + " (expected: 0..10 min)");
      }
      this.clockSkew = skew;
      return this;
    }

    public JwtAuthenticator build() {
      if (keys == null || issuer == null || audience == null) {
        throw new IllegalStateException(
            "jwks, issuer and audience are required (expected: all three set)");
      }
      return new JwtAuthenticator(this);
    }
  }
}
