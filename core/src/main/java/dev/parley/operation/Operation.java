package dev.parley.operation;

import dev.parley.messaging.Channel;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API-first description of one request/response: the service that owns it, its name, its input
 * and output types, and whether it is idempotent. A <b>binding</b> decides how it travels:
 *
 * <ul>
 *   <li>REST: {@code POST /{service}/{name}} by default, or the {@linkplain #withHttp method and
 *       path template} declared here ({@code GET /orders/{id}});
 *   <li>gRPC: method {@code {name}} of gRPC service {@code {service}};
 *   <li>messaging: a command on channel {@code {service}.{name}} with a reply ({@link
 *       #commandChannel()}).
 * </ul>
 *
 * Idempotent operations may be retried by a caller's policy; others only when the call carries an
 * idempotency key. Immutable and thread-safe.
 *
 * <pre>{@code
 * Operation<GetOrder, Order> GET_ORDER =
 *     Operation.of("orders", "GetOrder", GetOrder.class, Order.class)
 *         .withIdempotent(true)
 *         .withHttp("GET", "/orders/{id}");
 * }</pre>
 *
 * @param <I> the input (request) type
 * @param <O> the output (response) type
 */
public final class Operation<I, O> {

  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]*");
  private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9_.~{}-]+)+/?");

  private final String service;
  private final String name;
  private final Class<I> inputType;
  private final Class<O> outputType;
  private final boolean idempotent;
  private final String httpMethod;
  private final String httpPath;
  private final java.util.List<String> errorCodes;
  private final int hash;

  /**
   * {@link #commandChannel()}, made on first use: every call and request over messaging asks for
   * it. Channels are immutable, so a race only makes it twice.
   */
  private Channel<I> commandChannel;

  private Operation(
      String service,
      String name,
      Class<I> inputType,
      Class<O> outputType,
      boolean idempotent,
      String httpMethod,
      String httpPath,
      java.util.List<String> errorCodes) {
    this.service = service;
    this.name = name;
    this.inputType = inputType;
    this.outputType = outputType;
    this.idempotent = idempotent;
    this.httpMethod = httpMethod;
    this.httpPath = httpPath;
    this.errorCodes = java.util.List.copyOf(errorCodes);
    this.hash = Objects.hash(service, name);
  }

  /**
   * A non-idempotent operation.
   *
   * @param service the owning service, e.g. {@code kitchen} or {@code ftgo.Kitchen}
   * @param name the operation's name, e.g. {@code CreateTicket}
   */
  public static <I, O> Operation<I, O> of(
      String service, String name, Class<I> inputType, Class<O> outputType) {
    checkName(service, "service");
    checkName(name, "name");
    return new Operation<>(
        service,
        name,
        Objects.requireNonNull(inputType, "inputType"),
        Objects.requireNonNull(outputType, "outputType"),
        false,
        null,
        null,
        java.util.List.of());
  }

  /** A copy marked idempotent (or not): repeating it has the effect of doing it once. */
  public Operation<I, O> withIdempotent(boolean idempotent) {
    return new Operation<>(
        service, name, inputType, outputType, idempotent, httpMethod, httpPath, errorCodes);
  }

  /**
   * A copy with a declared REST route: {@code method} is GET, POST, PUT, PATCH or DELETE; {@code
   * pathTemplate} may hold {@code {variables}} that fill the input's fields of the same name.
   */
  public Operation<I, O> withHttp(String method, String pathTemplate) {
    String m = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
    if (!m.matches("GET|POST|PUT|PATCH|DELETE")) {
      throw new IllegalArgumentException(
          "method: " + method + " (expected: GET, POST, PUT, PATCH or DELETE)");
    }
    if (pathTemplate == null || !PATH.matcher(pathTemplate).matches()) {
      throw new IllegalArgumentException(
          "pathTemplate: " + pathTemplate + " (expected: e.g. /orders/{id})");
    }
    return new Operation<>(
        service, name, inputType, outputType, idempotent, m, pathTemplate, errorCodes);
  }

  /**
   * A copy declaring the error codes its handler answers besides Parley's own (e.g. {@code
   * kitchen.order_not_found}): they appear in the operation's contract documents, and removing one
   * is a breaking change for {@code ContractCheck}.
   */
  public Operation<I, O> withErrorCodes(String... codes) {
    java.util.List<String> all = new java.util.ArrayList<>(errorCodes);
    for (String code : codes) {
      if (code == null || !code.matches("[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+")) {
        throw new IllegalArgumentException(
            "error code: " + code + " (expected: dotted lower case, e.g. kitchen.order_not_found)");
      }
      if (!all.contains(code)) {
        all.add(code);
      }
    }
    return new Operation<>(
        service, name, inputType, outputType, idempotent, httpMethod, httpPath, all);
  }

  /** The error codes declared with {@link #withErrorCodes}, in order. */
  public java.util.List<String> errorCodes() {
    return errorCodes;
  }

  public String service() {
    return service;
  }

  public String name() {
    return name;
  }

  public Class<I> inputType() {
    return inputType;
  }

  public Class<O> outputType() {
    return outputType;
  }

  public boolean isIdempotent() {
    return idempotent;
  }

  /** The REST method: the declared one, else {@code POST}. */
  public String httpMethod() {
    return httpMethod != null ? httpMethod : "POST";
  }

  /** The REST path template: the declared one, else {@code /{service}/{name}}. */
  public String httpPath() {
    return httpPath != null ? httpPath : "/" + service + "/" + name;
  }

  /** Whether a REST route was declared with {@link #withHttp}. */
  public boolean hasDeclaredHttp() {
    return httpPath != null;
  }

  /** {@code service/name}, the gRPC full method name. */
  public String fullName() {
    return service + "/" + name;
  }

  /** The command channel of the messaging binding, {@code service.name}. */
  public Channel<I> commandChannel() {
    Channel<I> channel = commandChannel;
    if (channel == null) {
      channel = Channel.command(service + "." + name, inputType).withMessageType(name);
      commandChannel = channel;
    }
    return channel;
  }

  /** The declared HTTP route, if any, as {@code METHOD /path}. */
  public Optional<String> declaredHttp() {
    return httpPath == null ? Optional.empty() : Optional.of(httpMethod + " " + httpPath);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Operation<?, ?> other
        && service.equals(other.service)
        && name.equals(other.name)
        && inputType == other.inputType
        && outputType == other.outputType;
  }

  @Override
  public int hashCode() {
    return hash; // bindings look operations up on every call
  }

  @Override
  public String toString() {
    return "operation "
        + fullName()
        + "("
        + inputType.getSimpleName()
        + ") → "
        + outputType.getSimpleName()
        + (idempotent ? ", idempotent" : "");
  }

  private static void checkName(String value, String what) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + ": " + value + " (expected: a letter, then letters, digits, '_', '.' or '-')");
    }
  }
}
