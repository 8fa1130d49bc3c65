package dev.parley.security;

import dev.parley.error.Code;
import dev.parley.error.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which authenticated callers may call which operations, checked before a handler runs.
 *
 * <pre>{@code
 * Access access = Access.builder()
 *     .allow("kitchen/CreateTicket", "order-service")        // by identity name
 *     .allowScope("kitchen/*", "kitchen.read")                // by a granted scope
 *     .allowAuthenticated("kitchen/GetTicket")                // any authenticated caller
 *     .build();
 * }</pre>
 *
 * Operations are named {@code service/name}; a pattern is an operation name, {@code service/*} or
 * {@code *}. A call is allowed when a rule whose pattern matches its operation allows its identity;
 * an operation no rule names is refused (rules fail closed). {@link #anyAuthenticated()} allows
 * every authenticated caller everything — what a server uses when it authenticates without rules.
 *
 * <p>Immutable and thread-safe.
 */
public final class Access {

  private sealed interface Grant {
    boolean allows(Identity identity);
  }

  private record ByName(Set<String> names) implements Grant {
    @Override
    public boolean allows(Identity identity) {
      return names.contains(identity.name());
    }

    @Override
    public String toString() {
      return "identities " + names.stream().sorted().collect(Collectors.joining(", "));
    }
  }

  private record ByScope(String scope) implements Grant {
    @Override
    public boolean allows(Identity identity) {
      return identity.hasScope(scope);
    }

    @Override
    public String toString() {
      return "scope " + scope;
    }
  }

  private record Anyone() implements Grant {
    @Override
    public boolean allows(Identity identity) {
      return true;
    }

    @Override
    public String toString() {
      return "any authenticated caller";
    }
  }

  private record Rule(String pattern, Grant grant) {
    boolean matches(String operation) {
      if (pattern.equals("*")) {
        return true;
      }
      if (pattern.endsWith("/*")) {
        return operation.startsWith(pattern.substring(0, pattern.length() - 1));
      }
      return pattern.equals(operation);
    }
  }

  private static final Access ANY_AUTHENTICATED = new Access(List.of(new Rule("*", new Anyone())));

  private final List<Rule> rules;

  private Access(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Every authenticated caller may call every operation. */
  public static Access anyAuthenticated() {
    return ANY_AUTHENTICATED;
  }

  /**
   * Whether {@code identity} may call {@code service/name}: empty if so, else the {@link
   * Code#PERMISSION_DENIED} status to answer with (it names the caller and the operation, never the
   * rules).
   */
  public Optional<Status> check(String service, String name, Identity identity) {
    Objects.requireNonNull(identity, "identity");
    String operation = service + "/" + name;
    for (Rule rule : rules) {
      if (rule.matches(operation) && rule.grant().allows(identity)) {
        return Optional.empty();
      }
    }
    return Optional.of(
        Status.of(
            Code.PERMISSION_DENIED,
            "parley.permission_denied",
            "'" + identity.name() + "' may not call " + operation));
  }

  /** The rules, one per line, in the order they were given. */
  public String describe() {
    return rules.stream()
        .map(r -> r.pattern() + " <- " + r.grant())
        .collect(Collectors.joining("\n"));
  }

  @Override
  public String toString() {
    return "Access[" + describe().replace('\n', ';') + "]";
  }

  /** Builds {@link Access} rules. Not thread-safe. */
  public static final class Builder {
    private final List<Rule> rules = new ArrayList<>();

    private Builder() {}

    /** Callers named {@code identities} may call the operations {@code pattern} matches. */
    public Builder allow(String pattern, String... identities) {
      if (identities.length == 0) {
        throw new IllegalArgumentException("identities: none (expected: at least one name)");
      }
      rules.add(new Rule(checked(pattern), new ByName(Set.of(identities))));
      return this;
    }

    /** Callers granted {@code scope} may call the operations {@code pattern} matches. */
    public Builder allowScope(String pattern, String scope) {
      if (scope == null || scope.isBlank()) {
        throw new IllegalArgumentException("scope: '" + scope + "' (expected: a scope name)");
      }
      rules.add(new Rule(checked(pattern), new ByScope(scope)));
      return this;
    }

    /** Any authenticated caller may call the operations {@code pattern} matches. */
    public Builder allowAuthenticated(String pattern) {
      rules.add(new Rule(checked(pattern), new Anyone()));
      return this;
    }

    public Access build() {
      if (rules.isEmpty()) {
        throw new IllegalStateException(
            "no rules (expected: at least one allow...; Access.anyAuthenticated() allows all)");
      }
      return new Access(rules);
    }

    private static String checked(String pattern) {
      if (pattern == null
          || !(pattern.equals("*") || pattern.matches("[^/*\\s]+/([^/*\\s]+|\\*)"))) {
        throw new IllegalArgumentException(
            "pattern: '" + pattern + "' (expected: service/name, service/* or *)");
      }
      return pattern;
    }
  }
}
