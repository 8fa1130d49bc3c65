package dev.parley.rpc;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.common.SessionProtocol;
import dev.parley.codec.Codecs;
import dev.parley.error.ParleyException;
import dev.parley.messaging.Messaging;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import dev.parley.policy.Policy;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Calls operations over the configured {@link Binding} — REST, gRPC or messaging — with the same
 * {@link #call} whichever it is, so moving an operation between sync and async is configuration:
 *
 * <pre>{@code
 * RpcClient kitchen = RpcClient.builder()
 *     .binding(Binding.parse(config.get("kitchen.binding")))   // rest | grpc | messaging
 *     .endpoints(Endpoints.of("127.0.0.1:8080"))                // or DNS, or ZooKeeper
 *     .messaging(messaging)                                     // for the messaging binding
 *     .policy(Policy.builder().deadline(Duration.ofSeconds(2)).build())
 *     .build();
 * TicketId id = kitchen.call(CREATE_TICKET, new CreateTicket("o-1"));
 * }</pre>
 *
 * Every call runs through the {@link Policy} (deadline → retry → circuit breaker → rate limit →
 * bulkhead). The deadline travels to the server ({@code parley-timeout-ms}, {@code grpc-timeout},
 * the message deadline) as the remaining time, and a call made while serving another inherits the
 * shorter deadline. Failures are Parley's exceptions: {@link
 * dev.parley.error.DeadlineExceededException}, {@link dev.parley.error.RejectedException}, {@link
 * dev.parley.error.RemoteException} with the server's status, {@link
 * dev.parley.error.BadInputException}, {@link dev.parley.error.TransportException}. The same
 * failure has the same code and error code over every binding.
 *
 * <p>Client-side load balancing: calls are spread over the endpoint group's healthy endpoints
 * (weighted round robin). Thread-safe; close it to release its connections.
 */
public final class RpcClient implements AutoCloseable {

  private final Binding binding;
  private final Callers caller;
  private final Policy policy;
  private final ClientFactory factory;
  private final boolean ownsFactory;
  private final String description;

  private RpcClient(Builder b) {
    this.binding = b.binding;
    this.policy = b.policy;
    this.ownsFactory = b.factory == null;
    if (b.factory != null
        && ((b.credentials != null && b.credentials.hasCertificate()) || b.trust != null)) {
      throw new IllegalStateException(
          "a client certificate or trust(..) configures the client's own factory (expected:"
              + " not with factory(..); configure TLS on that factory instead)");
    }
    this.factory = b.factory != null ? b.factory : newFactory(b);
    Codecs codecs = b.codecs != null ? b.codecs : Codecs.discover();
    this.caller =
        switch (binding) {
          case REST ->
              new Callers.Rest(restProtocol(b), endpoints(b), factory, codecs, b.credentials);
          case GRPC ->
              new Callers.Grpc(
                  b.tls ? SessionProtocol.H2 : SessionProtocol.H2C,
                  endpoints(b),
                  factory,
                  codecs,
                  b.credentials);
          case MESSAGING -> {
            if (b.messaging == null) {
              throw new IllegalStateException(
                  "binding MESSAGING needs messaging(...) (expected: a Messaging instance)");
            }
            yield new Callers.OverMessaging(b.messaging, b.messagingTimeout, b.credentials);
          }
        };
    this.description =
        binding.name().toLowerCase(java.util.Locale.ROOT) + " with " + policy.describe();
  }

  private static ClientFactory newFactory(Builder b) {
    com.linecorp.armeria.client.ClientFactoryBuilder f =
        ClientFactory.builder().idleTimeout(Duration.ofSeconds(30));
    if (b.credentials != null && b.credentials.hasCertificate()) {
      f.tls(b.credentials.certificateChain(), b.credentials.privateKey());
    }
    if (b.trust != null) {
      java.io.File trust = b.trust;
      f.tlsCustomizer(tls -> tls.trustManager(trust));
    }
    return f.build();
  }

  private static SessionProtocol restProtocol(Builder b) {
    if (b.http1) {
      return b.tls ? SessionProtocol.H1 : SessionProtocol.H1C;
    }
    return b.tls ? SessionProtocol.HTTPS : SessionProtocol.HTTP;
  }

  private static EndpointGroup endpoints(Builder b) {
    if (b.endpoints == null) {
      throw new IllegalStateException(
          "binding " + b.binding + " needs endpoints(...) (expected: an endpoint group)");
    }
    return b.endpoints;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Calls {@code operation} and waits for its output.
   *
   * @throws ParleyException subclasses, as described on this class
   */
  public <I, O> O call(Operation<I, O> operation, I input) {
    return call(operation, input, CallOptions.DEFAULT);
  }

  /** Calls with per-call options (timeout, idempotency key) and waits for the output. */
  public <I, O> O call(Operation<I, O> operation, I input, CallOptions options) {
    try {
      return callAsync(operation, input, options).get();
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = StatusMapping.unwrap(e);
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw StatusMapping.clientFailure(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new dev.parley.error.TransportException("parley.rpc.interrupted", "interrupted", e);
    }
  }

  /** Calls {@code operation}; the future completes with its output or fails as {@link #call}. */
  public <I, O> CompletableFuture<O> callAsync(Operation<I, O> operation, I input) {
    return callAsync(operation, input, CallOptions.DEFAULT);
  }

  /** Calls with per-call options; the future cannot be completed by the caller. */
  public <I, O> CompletableFuture<O> callAsync(
      Operation<I, O> operation, I input, CallOptions options) {
    Objects.requireNonNull(operation, "operation");
    Objects.requireNonNull(input, "input");
    Policy.Call call = Policy.Call.of(operation.isIdempotent());
    if (options.idempotencyKey() != null) {
      call = call.withIdempotencyKey(options.idempotencyKey());
    }
    if (options.timeout() != null) {
      call = call.withDeadline(Deadline.after(options.timeout()));
    }
    String key = options.idempotencyKey();
    return policy.execute(call, deadline -> caller.attempt(operation, input, deadline, key));
  }

  public Binding binding() {
    return binding;
  }

  /** The policy every call runs through. */
  public Policy policy() {
    return policy;
  }

  /** The binding and the composed policy pipeline, e.g. for a startup log line. */
  public String describe() {
    return description;
  }

  @Override
  public void close() {
    if (ownsFactory) {
      factory.close();
    }
  }

  /**
   * Per-call options.
   *
   * @param timeout this call's own timeout (the policy's deadline still applies), or null
   * @param idempotencyKey a key the server deduplicates on, making a non-idempotent call retryable,
   *     or null
   */
  public record CallOptions(Duration timeout, String idempotencyKey) {
    public static final CallOptions DEFAULT = new CallOptions(null, null);

    public CallOptions withTimeout(Duration timeout) {
      return new CallOptions(Objects.requireNonNull(timeout, "timeout"), idempotencyKey);
    }

    public CallOptions withIdempotencyKey(String key) {
      return new CallOptions(timeout, Objects.requireNonNull(key, "key"));
    }
  }

  /** Configures an {@link RpcClient}. Not thread-safe. */
  public static final class Builder {
    private Binding binding = Binding.REST;
    private EndpointGroup endpoints;
    private Messaging messaging;
    private Duration messagingTimeout = Duration.ofSeconds(30);
    private Policy policy = Policy.none();
    private Codecs codecs;
    private ClientFactory factory;
    private boolean tls;
    private boolean http1;
    private CallCredentials credentials;
    private java.io.File trust;

    private Builder() {}

    /**
     * What every call presents to the server: a bearer token (refreshed before it expires) over
     * REST, gRPC and messaging (there in the request's {@code parley-authorization} header), a
     * client certificate for mutual TLS (REST and gRPC; over messaging the broker's own credentials
     * and TLS apply), or both.
     */
    public Builder credentials(CallCredentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Trusts servers whose certificates these authorities (PEM) issued, instead of the JVM's
     * default trust store (a private CA between services); with {@link #tls(boolean)}.
     */
    public Builder trust(java.io.File authorities) {
      this.trust = Objects.requireNonNull(authorities, "authorities");
      return this;
    }

    /** The binding calls travel over; REST by default. */
    public Builder binding(Binding binding) {
      this.binding = Objects.requireNonNull(binding, "binding");
      return this;
    }

    /** Where the REST and gRPC bindings find servers: see {@link Endpoints}. */
    public Builder endpoints(EndpointGroup endpoints) {
      this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
      return this;
    }

    /** The messaging instance of the messaging binding. */
    public Builder messaging(Messaging messaging) {
      this.messaging = Objects.requireNonNull(messaging, "messaging");
      return this;
    }

    /** The messaging binding's timeout for calls without a deadline; 30 s by default. */
    public Builder messagingTimeout(Duration timeout) {
      this.messagingTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** The policy every call runs through; none by default. */
    public Builder policy(Policy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The codecs inputs are written and outputs read with; those on the class path by default. */
    public Builder codecs(Codecs codecs) {
      this.codecs = Objects.requireNonNull(codecs, "codecs");
      return this;
    }

    /** Whether to use TLS (HTTPS, h2); off by default. */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /** REST over HTTP/1.1 only (no HTTP/2); off by default. */
    public Builder http1(boolean http1) {
      this.http1 = http1;
      return this;
    }

    /**
     * The Armeria client factory (connection pool, TLS trust) to use; the client then does not
     * close it. By default each client owns one.
     */
    public Builder factory(ClientFactory factory) {
      this.factory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    public RpcClient build() {
      return new RpcClient(this);
    }
  }
}
