package dev.parley.rpc;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServerPort;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.GrpcServiceBuilder;
import com.linecorp.armeria.server.healthcheck.HealthCheckService;
import dev.parley.codec.Codecs;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.operation.Operation;
import dev.parley.operation.OperationHandler;
import dev.parley.policy.Policy;
import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Serves operations over REST and gRPC on one port (HTTP/1.1 and HTTP/2, cleartext or TLS), and
 * optionally over messaging, with one handler per operation:
 *
 * <ul>
 *   <li>REST: {@code POST /{service}/{name}} or the operation's declared route; JSON, XML or
 *       Protobuf by Content-Type and Accept; failures as {@code application/problem+json};
 *   <li>gRPC: method {@code {service}/{name}}, Protobuf with the derived {@code .proto} for record
 *       operations ({@link dev.parley.rpc.contract.ProtoSchemas}) and JSON for {@code
 *       application/grpc+json}, gRPC-Web too, plus plain grpc-java services ({@link
 *       Builder#grpcService}) with gRPC-Web, unframed JSON/Protobuf requests and HTTP/JSON
 *       transcoding ({@code google.api.http}) for browsers;
 *   <li>messaging: a command + reply on the operation's command channel ({@link
 *       Builder#messaging});
 *   <li>{@code /operations}: a page to see and try every operation; {@code /docs}: Armeria's
 *       DocService for the operations and plain grpc-java services; {@code /openapi.json}, {@code
 *       /asyncapi.json} and {@code /proto/<file>}: the contract documents; gRPC server reflection;
 *       {@code /internal/health}: the health check that client-side health-checked endpoint groups
 *       probe (all on by default only while the server listens on loopback).
 * </ul>
 *
 * <p>It listens on the loopback address unless {@link Builder#address} says otherwise; a TLS port
 * speaks TLS only. One HTTP/2 connection may hold 100 calls open at once, the server as many as it
 * has handler threads (then 429 at once); an HTTP/1 request with both {@code Content-Length} and
 * {@code Transfer-Encoding} is refused with 400 and its connection closed.
 *
 * <p>Callers are authenticated when asked ({@link Builder#clientCertificates}, {@link
 * Builder#authenticator}) and checked against {@link Builder#access} rules before the input is
 * decoded: 401 / {@code UNAUTHENTICATED} and 403 / {@code PERMISSION_DENIED}, the handler not run.
 *
 * <p>The server's {@link Policy} guards every incoming call with its rate limit (answering 429 /
 * {@code RESOURCE_EXHAUSTED} with a retry-after) and bulkhead. Handlers run on Armeria's blocking
 * executor with the caller's deadline {@linkplain dev.parley.policy.Deadline#current() current}.
 *
 * <pre>{@code
 * try (RpcServer server = RpcServer.builder().port(8080)
 *         .serve(CREATE_TICKET, (request, ctx) -> kitchen.create(request))
 *         .build().start()) {
 *   ...
 * }
 * }</pre>
 *
 * Thread-safe; {@link #close()} stops the server, waiting for in-flight calls, and is idempotent.
 */
public final class RpcServer implements AutoCloseable {

  /**
   * One served operation: a blocking {@code handler} (run on the handler threads) or an {@code
   * async} one (run where the input is ready, without a hand-off); exactly one is set.
   */
  record Served<I, O>(
      Operation<I, O> operation,
      OperationHandler<I, O> handler,
      dev.parley.operation.AsyncOperationHandler<I, O> async) {

    boolean blocking() {
      return async == null;
    }

    /** The handler as a stage, called on the current thread (a handler thread when blocking). */
    java.util.concurrent.CompletionStage<O> invoke(I input, dev.parley.operation.CallContext ctx) {
      if (async != null) {
        return async.handle(input, ctx);
      }
      try {
        return java.util.concurrent.CompletableFuture.completedFuture(handler.handle(input, ctx));
      } catch (Exception e) {
        return java.util.concurrent.CompletableFuture.failedFuture(e);
      }
    }
  }

  /** A fixed resource (a page, a script) served on GET. */
  private record Resource(String path, String contentType, byte[] content) {}

  private final Server server;
  private final List<Served<?, ?>> served;
  private final Messaging messaging;
  private final List<Subscription> subscriptions = new ArrayList<>();
  private final Policy policy;
  private final ServerGate gate;
  private final String openApi;
  private final java.util.Map<String, String> protoFiles;
  private final String asyncApi;

  private RpcServer(Builder b) {
    this.served = List.copyOf(b.served);
    this.messaging = b.messaging;
    this.policy = b.policy;
    ServerBuilder sb = Server.builder();
    InetSocketAddress listen = new InetSocketAddress(b.address, b.port);
    // A TLS port speaks TLS only: a plaintext request there fails its handshake (RELIABILITY.md
    // S9), rather than being served in the clear next to HTTPS.
    if (b.tlsCert != null) {
      sb.port(new ServerPort(listen, SessionProtocol.HTTPS));
      sb.tls(b.tlsCert, b.tlsKey);
    } else if (b.tlsSelfSigned) {
      sb.port(new ServerPort(listen, SessionProtocol.HTTPS));
      sb.tlsSelfSigned();
    } else {
      sb.port(new ServerPort(listen, SessionProtocol.HTTP));
    }
    if (b.clientAuthorities != null) {
      File authorities = b.clientAuthorities;
      sb.tlsCustomizer(
          tls -> tls.clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE).trustManager(authorities));
    }
    // One connection may not hold more calls than this (RFC 9113's advice: at least 100); beyond
    // it a stream is refused (RST_STREAM REFUSED_STREAM), so one client cannot take every thread.
    sb.http2MaxStreamsPerConnection(b.maxStreamsPerConnection);
    sb.childChannelPipelineCustomizer(Http1FramingGuard::install);
    int threads;
    if (b.handlerThreads != null) {
      threads = b.handlerThreads;
      sb.blockingTaskExecutor(threads);
    } else {
      threads = com.linecorp.armeria.common.Flags.numCommonBlockingTaskThreads();
    }
    List<Authenticator> authenticators = new ArrayList<>(b.authenticators);
    if (b.clientAuthorities != null) {
      authenticators.add(Authenticator.clientCertificate());
    }
    this.gate =
        new ServerGate(
            b.policy,
            b.maxConcurrentCalls != null ? b.maxConcurrentCalls : threads,
            authenticators,
            b.access != null ? b.access : dev.parley.security.Access.anyAuthenticated());

    sb.requestTimeout(b.requestTimeout);
    sb.maxRequestLength(b.maxRequestLength);
    sb.errorHandler(new ProblemErrors());
    sb.decorator(ProblemErrors::decorate);
    sb.gracefulShutdownTimeout(Duration.ZERO, b.shutdownTimeout);
    List<MediaType> bodyTypes = b.codecs.contentTypes().stream().map(MediaType::parse).toList();
    for (Served<?, ?> s : served) {
      addRest(sb, s, b.codecs, bodyTypes, gate);
    }
    GrpcOperations.Definitions grpcOps = GrpcOperations.definitions(served, b.codecs, gate);
    this.protoFiles = grpcOps.protoFiles();
    boolean docs = onByDefaultOnLoopback(b.docs, b.address);
    List<ServerServiceDefinition> plainServices = new ArrayList<>();
    PolicyInterceptor interceptor = new PolicyInterceptor(gate);
    for (BindableService service : b.grpcServices) {
      plainServices.add(ServerInterceptors.intercept(service, interceptor));
    }
    if (!grpcOps.described().isEmpty() || docs) {
      GrpcServiceBuilder described = operationsGrpc(b);
      grpcOps.described().forEach(described::addService);
      if (docs) {
        described.addService(
            GrpcReflection.service(grpcOps.described(), plainServices, interceptor));
      }
      sb.service(described.build());
    }
    if (!grpcOps.undescribed().isEmpty()) {
      GrpcServiceBuilder undescribed = operationsGrpc(b);
      grpcOps.undescribed().forEach(undescribed::addService);
      sb.service(new OperationsGrpcService(undescribed.build()));
    }
    if (!b.grpcServices.isEmpty()) {
      GrpcServiceBuilder plain =
          GrpcService.builder()
              .useBlockingTaskExecutor(true)
              .enableUnframedRequests(true)
              .enableHttpJsonTranscoding(true)
              .maxRequestMessageLength((int) Math.min(Integer.MAX_VALUE, b.maxRequestLength));
      plainServices.forEach(plain::addService);
      sb.service(plain.build());
    }
    if (onByDefaultOnLoopback(b.health, b.address)) {
      sb.service("/internal/health", HealthCheckService.of());
    }
    for (Resource r : b.resources) {
      serveFixed(sb, r.path(), MediaType.parse(r.contentType()), r.content());
    }
    String title =
        b.apiTitle != null
            ? b.apiTitle
            : String.join(
                ", ", served.stream().map(s -> s.operation().service()).distinct().toList());
    this.openApi =
        dev.parley.rpc.contract.OpenApi.builder(title, b.apiVersion)
            .operations(operations())
            .codecs(b.codecs)
            .authenticated(gate.authenticates())
            .toJson();
    if (b.messaging != null) {
      dev.parley.rpc.contract.AsyncApi async =
          dev.parley.rpc.contract.AsyncApi.builder(title, b.apiVersion);
      served.forEach(s -> async.operation(s.operation()));
      this.asyncApi = async.toJson();
    } else {
      this.asyncApi = null;
    }
    if (docs) {
      sb.serviceUnder("/docs", DocService.builder().build());
      if (asyncApi != null) {
        serveFixed(sb, "/asyncapi.json", MediaType.JSON_UTF_8, utf8(asyncApi));
      }
      protoFiles.forEach(
          (name, text) -> serveFixed(sb, "/proto/" + name, MediaType.PLAIN_TEXT_UTF_8, utf8(text)));
      String index = String.join("\n", protoFiles.keySet()) + (protoFiles.isEmpty() ? "" : "\n");
      serveFixed(sb, "/proto/", MediaType.PLAIN_TEXT_UTF_8, utf8(index));
      sb.service("/operations", new OperationsPage(operations()));
      serveFixed(sb, "/openapi.json", MediaType.JSON_UTF_8, utf8(openApi));
    }
    this.server = sb.build();
  }

  /** Serves {@code content} on GET {@code path}: a page, a script, a contract document. */
  private static void serveFixed(
      ServerBuilder sb, String path, MediaType contentType, byte[] content) {
    sb.service(
        path,
        (ctx, req) ->
            com.linecorp.armeria.common.HttpResponse.of(
                com.linecorp.armeria.common.HttpStatus.OK,
                contentType,
                com.linecorp.armeria.common.HttpData.wrap(content)));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * A gRPC service for operations: method marshallers, JSON by the operations' JSON codec. Calls
   * arrive on the event loop; {@link GrpcOperations} moves blocking handlers to the blocking
   * executor after admitting the call.
   */
  private static GrpcServiceBuilder operationsGrpc(Builder b) {
    return GrpcService.builder()
        .useBlockingTaskExecutor(false)
        .useMethodMarshaller(true)
        .jsonMarshallerFactory(CodecJsonMarshaller::new)
        .maxRequestMessageLength((int) Math.min(Integer.MAX_VALUE, b.maxRequestLength));
  }

  private static <I, O> void addRest(
      ServerBuilder sb, Served<I, O> s, Codecs codecs, List<MediaType> bodyTypes, ServerGate gate) {
    Operation<I, O> op = s.operation();
    HttpMethod method = HttpMethod.valueOf(op.httpMethod());
    var route = sb.route().methods(method).path(op.httpPath());
    if (method != HttpMethod.GET && method != HttpMethod.DELETE) {
      // gRPC shares the default path: REST is told apart by its content types
      route.consumes(bodyTypes);
    }
    route.build(new RestOperationService<>(s, codecs, gate));
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts serving; with {@link Builder#messaging} set, also serves every operation over messaging.
   *
   * @return this server
   */
  public RpcServer start() {
    server.start().join();
    if (messaging != null) {
      for (Served<?, ?> s : served) {
        subscriptions.add(serveOverMessaging(messaging, s, gate));
      }
    }
    return this;
  }

  private static <I, O> Subscription serveOverMessaging(
      Messaging messaging, Served<I, O> s, ServerGate gate) {
    if (!gate.authenticates()) {
      return s.blocking()
          ? messaging.serve(s.operation(), s.handler())
          : messaging.serveAsync(s.operation(), s.async());
    }
    // the same authenticators and rules over messaging: the token travels in the request's
    // parley-authorization header (client certificates are the broker's business there). An
    // authenticator may block (a JWKS fetch), so authenticated calls run on the handler pool, an
    // asynchronous handler's stage awaited there.
    Operation<I, O> op = s.operation();
    return messaging.serve(
        op,
        (input, context) -> {
          dev.parley.security.Identity identity =
              gate.authorize(
                  op.service(),
                  op.name(),
                  name ->
                      context
                          .header(
                              name.equalsIgnoreCase("authorization")
                                  ? dev.parley.message.Headers.AUTHORIZATION
                                  : name)
                          .orElse(null));
          try {
            return s.invoke(input, new IdentifiedCallContext(context, identity))
                .toCompletableFuture()
                .join();
          } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
          }
        });
  }

  /** What was asked for, else whether the server listens on loopback only. */
  static boolean onByDefaultOnLoopback(Boolean asked, InetAddress address) {
    return asked != null ? asked : address.isLoopbackAddress();
  }

  /** The address and port listened on. */
  public InetSocketAddress localAddress() {
    return server.activePort().localAddress();
  }

  /** The port served on (the bound one when built with port 0). */
  public int port() {
    return server.activeLocalPort();
  }

  /** The operations served, in registration order. */
  public List<Operation<?, ?>> operations() {
    return served.stream().<Operation<?, ?>>map(Served::operation).toList();
  }

  /** The server-side policy's description. */
  public String describePolicy() {
    return policy.describe();
  }

  /**
   * The OpenAPI 3.1 document of the operations' REST bindings (also served at {@code /openapi.json}
   * with the docs), for a committed copy or a client generator.
   */
  public String openApi() {
    return openApi;
  }

  /**
   * The AsyncAPI 3.0 document of the operations served over messaging (their command channels and
   * replies; also served at {@code /asyncapi.json} with the docs); empty without {@link
   * Builder#messaging}.
   */
  public java.util.Optional<String> asyncApi() {
    return java.util.Optional.ofNullable(asyncApi);
  }

  /**
   * The {@code .proto} files of the operations served over gRPC with Protobuf, by file name (also
   * served at {@code /proto/<file>} with the docs, and listed by gRPC server reflection): what a
   * client in any language compiles to call them.
   */
  public java.util.Map<String, String> protoFiles() {
    return protoFiles;
  }

  /**
   * What guards every call before its handler: the call limit, and who is authenticated how with
   * which access rules.
   */
  public String describeSecurity() {
    return gate.describe();
  }

  @Override
  public void close() {
    for (Subscription s : subscriptions) {
      s.close();
    }
    subscriptions.clear();
    server.stop().join();
  }

  /** Configures an {@link RpcServer}. Not thread-safe. */
  public static final class Builder {
    private int port;
    private boolean tlsSelfSigned;
    private File tlsCert;
    private File tlsKey;
    private Codecs codecs;
    private Policy policy = Policy.none();
    private final List<Served<?, ?>> served = new ArrayList<>();
    private final List<BindableService> grpcServices = new ArrayList<>();
    private final List<Resource> resources = new ArrayList<>();
    private Messaging messaging;
    private Boolean docs;
    private Boolean health;
    private InetAddress address = InetAddress.getLoopbackAddress();
    private Duration requestTimeout = Duration.ofSeconds(10);
    private long maxRequestLength = 4 * 1024 * 1024;
    private Duration shutdownTimeout = Duration.ofSeconds(5);
    private File clientAuthorities;
    private final List<Authenticator> authenticators = new ArrayList<>();
    private dev.parley.security.Access access;
    private Integer maxConcurrentCalls;
    private Integer handlerThreads;
    private int maxStreamsPerConnection = 100;
    private String apiTitle;
    private String apiVersion = "1";

    private Builder() {}

    /**
     * The title and version of the OpenAPI document ({@link RpcServer#openApi()}); by default the
     * services' names and {@code 1}.
     */
    public Builder apiInfo(String title, String version) {
      this.apiTitle = Objects.requireNonNull(title, "title");
      this.apiVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Requires every client to present a certificate issued by one of these authorities (PEM) in
     * the TLS handshake (mutual TLS; the handshake fails without one), and authenticates the caller
     * as the certificate's service: its SPIFFE URI, DNS name or common name. Needs {@link #tls} or
     * {@link #tlsSelfSigned}.
     */
    public Builder clientCertificates(File trustedAuthorities) {
      this.clientAuthorities = Objects.requireNonNull(trustedAuthorities, "trustedAuthorities");
      return this;
    }

    /**
     * Authenticates every call with {@code authenticator} (a {@link JwtAuthenticator}, say); with
     * several, the first that finds credentials decides; a call none authenticates is refused with
     * 401 / {@code UNAUTHENTICATED} and its handler not run. Client certificates ({@link
     * #clientCertificates}) are asked last.
     */
    public Builder authenticator(Authenticator authenticator) {
      authenticators.add(Objects.requireNonNull(authenticator, "authenticator"));
      return this;
    }

    /**
     * Which authenticated callers may call which operations (403 / {@code PERMISSION_DENIED}
     * otherwise, the handler not run); every authenticated caller may call everything by default.
     */
    public Builder access(dev.parley.security.Access access) {
      this.access = Objects.requireNonNull(access, "access");
      return this;
    }

    /**
     * How many calls may be in the server at once across every binding and connection; beyond it a
     * call is refused at once with 429 / {@code RESOURCE_EXHAUSTED} ({@code parley.server_busy})
     * rather than queued. By default the handler thread count ({@link #handlerThreads}; Armeria's
     * shared blocking executor has 200).
     */
    public Builder maxConcurrentCalls(int calls) {
      if (calls < 1) {
        throw new IllegalArgumentException("maxConcurrentCalls: " + calls + " (expected: > 0)");
      }
      this.maxConcurrentCalls = calls;
      return this;
    }

    /**
     * Runs handlers on a pool of this many threads of the server's own (closed with it), instead of
     * Armeria's shared blocking executor (200 threads).
     */
    public Builder handlerThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("handlerThreads: " + threads + " (expected: > 0)");
      }
      this.handlerThreads = threads;
      return this;
    }

    /**
     * How many calls one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS);
     * 100 by default. A stream beyond it is refused, so one connection cannot hold every handler
     * thread.
     */
    public Builder maxStreamsPerConnection(int streams) {
      if (streams < 1) {
        throw new IllegalArgumentException(
            "maxStreamsPerConnection: " + streams + " (expected: > 0)");
      }
      this.maxStreamsPerConnection = streams;
      return this;
    }

    /** The port; 0 (the default) picks a free one. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
      }
      this.port = port;
      return this;
    }

    /** Serves HTTPS only on the port with a self-signed certificate, for tests. */
    public Builder tlsSelfSigned() {
      this.tlsSelfSigned = true;
      return this;
    }

    /**
     * Serves HTTPS only on the port with this certificate chain and private key (PEM): a plaintext
     * request fails its TLS handshake and the connection closes.
     */
    public Builder tls(File certificateChain, File privateKey) {
      this.tlsCert = Objects.requireNonNull(certificateChain, "certificateChain");
      this.tlsKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /** The codecs operations are read and written with; those on the class path by default. */
    public Builder codecs(Codecs codecs) {
      this.codecs = Objects.requireNonNull(codecs, "codecs");
      return this;
    }

    /**
     * The policy guarding every incoming call: its rate limit answers 429 / {@code
     * RESOURCE_EXHAUSTED} with a retry-after, its bulkhead the same without one. Retry and circuit
     * breaker stages do not apply on the server side.
     */
    public Builder policy(Policy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Serves {@code operation} with {@code handler}, on the handler threads. */
    public <I, O> Builder serve(Operation<I, O> operation, OperationHandler<I, O> handler) {
      served.add(
          new Served<>(
              Objects.requireNonNull(operation, "operation"),
              Objects.requireNonNull(handler, "handler"),
              null));
      return this;
    }

    /**
     * Serves {@code operation} with a handler that does not block: over REST and gRPC it is called
     * on the event loop once the input is decoded, over messaging on the transport's dispatch
     * thread, and answered when its stage completes — no handler thread is held while it waits (the
     * server's call limit still counts it until then). With an authenticator, the caller is
     * authenticated on a handler thread first (an authenticator may block) and the handler is
     * called there.
     */
    public <I, O> Builder serveAsync(
        Operation<I, O> operation, dev.parley.operation.AsyncOperationHandler<I, O> handler) {
      served.add(
          new Served<>(
              Objects.requireNonNull(operation, "operation"),
              null,
              Objects.requireNonNull(handler, "handler")));
      return this;
    }

    /**
     * Serves a plain grpc-java service (a generated {@code *ImplBase}) alongside, with the server's
     * policy, gRPC-Web, unframed requests and HTTP/JSON transcoding.
     */
    public Builder grpcService(BindableService service) {
      grpcServices.add(Objects.requireNonNull(service, "service"));
      return this;
    }

    /**
     * Serves fixed content on GET {@code path} — a page that calls the operations, say; {@code
     * contentType} like {@code text/html; charset=utf-8}.
     */
    public Builder resource(String path, String contentType, byte[] content) {
      if (path == null || !path.startsWith("/")) {
        throw new IllegalArgumentException("path: " + path + " (expected: starting with /)");
      }
      resources.add(
          new Resource(path, Objects.requireNonNull(contentType, "contentType"), content.clone()));
      return this;
    }

    /** Also serves every operation over messaging, as commands with replies, once started. */
    public Builder messaging(Messaging messaging) {
      this.messaging = Objects.requireNonNull(messaging, "messaging");
      return this;
    }

    /**
     * Whether to serve Armeria's DocService under {@code /docs}, the operations page (try-it forms
     * for every operation) under {@code /operations}, the OpenAPI document at {@code
     * /openapi.json}, the AsyncAPI document at {@code /asyncapi.json} (with {@link #messaging}),
     * the {@code .proto} files under {@code /proto/} and gRPC server reflection. By default on when
     * the server listens on loopback only, off otherwise: they describe and call every operation
     * without asking who calls.
     */
    public Builder docs(boolean docs) {
      this.docs = docs;
      return this;
    }

    /**
     * Whether to serve {@code /internal/health}; by default on when the server listens on loopback
     * only, off otherwise (turn it on for a load balancer's or discovery's health checks).
     */
    public Builder health(boolean health) {
      this.health = health;
      return this;
    }

    /**
     * The address to listen on: by default the loopback address only ({@code 127.0.0.1}), so a
     * server is reachable from other machines only when asked, e.g. {@code address("0.0.0.0")} for
     * every interface or one interface's address. Off loopback, the docs, the operations page and
     * health are off unless turned on ({@link #docs}, {@link #health}).
     *
     * @param host an IP address literal or a host name, resolved now
     */
    public Builder address(String host) {
      Objects.requireNonNull(host, "host");
      try {
        this.address = InetAddress.getByName(host);
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("address: " + host + " (unknown host)", e);
      }
      return this;
    }

    /** How long a call without a deadline of its own may take; 10 s by default. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * The largest request body accepted (413 / {@code RESOURCE_EXHAUSTED} beyond); 4 MiB by
     * default.
     */
    public Builder maxRequestLength(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxRequestLength: " + bytes + " (expected: > 0)");
      }
      this.maxRequestLength = bytes;
      return this;
    }

    public RpcServer build() {
      if (clientAuthorities != null && tlsCert == null && !tlsSelfSigned) {
        throw new IllegalStateException(
            "clientCertificates needs TLS (expected: tls(..) or tlsSelfSigned())");
      }
      if (access != null && authenticators.isEmpty() && clientAuthorities == null) {
        throw new IllegalStateException(
            "access rules need callers to be authenticated (expected: authenticator(..) or"
                + " clientCertificates(..))");
      }
      if (codecs == null) {
        codecs = Codecs.discover();
      }
      return new RpcServer(this);
    }
  }
}
