package dev.parley.security;

import java.util.Objects;
import java.util.Set;

/**
 * A caller a server has authenticated.
 *
 * @param name the service's name: a token's {@code sub}, or a client certificate's SPIFFE URI, DNS
 *     name or common name
 * @param scopes what the caller was granted (a token's {@code scope} / {@code scp}); empty for a
 *     certificate
 * @param mechanism how it was established: {@code mtls} or {@code jwt}
 */
public record Identity(String name, Set<String> scopes, String mechanism) {

  public Identity {
    Objects.requireNonNull(name, "name");
    scopes = Set.copyOf(scopes);
    Objects.requireNonNull(mechanism, "mechanism");
  }

  /** Whether the caller was granted {@code scope}. */
  public boolean hasScope(String scope) {
    return scopes.contains(scope);
  }
}
