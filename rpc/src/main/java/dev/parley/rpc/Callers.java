package dev.parley.rpc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.WebClientRequestPreparation;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.grpc.GrpcClientStubFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.SessionProtocol;
import dev.parley.codec.Codec;
import dev.parley.codec.Codecs;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.Status;
import dev.parley.messaging.Messaging;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One attempt of a call over one binding; the {@link RpcClient}'s policy wraps the attempts. */
interface Callers {

  /**
   * Makes one attempt; the future fails with a Parley exception.
   *
   * @param deadline the call's deadline, or null
   * @param idempotencyKey the call's idempotency key, or null
   */
  <I, O> CompletableFuture<O> attempt(
      Operation<I, O> op, I input, Deadline deadline, String idempotencyKey);

  /** Maps a status from any binding to the exception the caller sees. */
  static RuntimeException exceptionOf(Status status) {
    if (status.code() == Code.DEADLINE_EXCEEDED) {
      return new DeadlineExceededException(status.message());
    }
    return status.asException();
  }

  /** The REST binding over an Armeria {@link WebClient}. */
  final class Rest implements Callers {
    private static final ObjectMapper FIELDS = new ObjectMapper();
    private static final Pattern VARIABLE = Pattern.compile("\\{([^}/]+)}");

    private final WebClient client;
    private final Codecs codecs;

    Rest(
        SessionProtocol protocol,
        EndpointGroup endpoints,
        ClientFactory factory,
        Codecs codecs,
        CallCredentials credentials) {
      var builder = WebClient.builder(protocol, endpoints).factory(factory);
      if (credentials != null) {
        builder.decorator(credentials::decorate);
      }
      this.client = builder.build();
      this.codecs = codecs;
    }

    @Override
    public <I, O> CompletableFuture<O> attempt(
        Operation<I, O> op, I input, Deadline deadline, String idempotencyKey) {
      Codec writer = codecs.encoderFor(op.inputType());
      Codec reader = codecs.encoderFor(op.outputType());
      HttpMethod method = HttpMethod.valueOf(op.httpMethod());
      boolean hasBody = method != HttpMethod.GET && method != HttpMethod.DELETE;
      WebClientRequestPreparation request =
          client
              .prepare()
              .method(method)
              .path(path(op, input, hasBody))
              .header(HttpHeaderNames.ACCEPT, reader.contentType());
      if (hasBody) {
        request.content(MediaType.parse(writer.contentType()), writer.encode(input));
      }
      if (deadline != null) {
        long millis = Math.max(1, deadline.remainingMillis());
        request.responseTimeoutMillis(millis).header(StatusMapping.TIMEOUT_HEADER, millis);
      }
      if (idempotencyKey != null) {
        request.header(StatusMapping.IDEMPOTENCY_KEY_HEADER, idempotencyKey);
      }
      CompletableFuture<AggregatedHttpResponse> response = request.execute().aggregate();
      CompletableFuture<O> result =
          response.handle(
              (res, failure) -> {
                if (failure != null) {
                  throw StatusMapping.clientFailure(failure);
                }
                return decode(op, res);
              });
      result.whenComplete(
          (v, e) -> {
            if (result.isCancelled()) {
              response.cancel(true);
            }
          });
      return result;
    }

    private <I, O> O decode(Operation<I, O> op, AggregatedHttpResponse res) {
      int status = res.status().code();
      MediaType contentType = res.contentType();
      if (status == 200) {
        return codecs
            .decoderFor(contentType == null ? null : contentType.toString(), op.outputType())
            .decode(res.content().array(), op.outputType());
      }
      throw exceptionOf(
          StatusMapping.fromHttp(
              status,
              contentType == null ? null : contentType.toString(),
              res.content().array(),
              res.headers().get(HttpHeaderNames.RETRY_AFTER)));
    }

    /** The request path: template variables filled from the input; for GET the rest as query. */
    private static <I> String path(Operation<I, ?> op, I input, boolean hasBody) {
      if (!op.hasDeclaredHttp()) {
        return op.httpPath();
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = new LinkedHashMap<>(FIELDS.convertValue(input, Map.class));
      Matcher m = VARIABLE.matcher(op.httpPath());
      StringBuilder path = new StringBuilder();
      while (m.find()) {
        Object value = fields.remove(m.group(1));
        m.appendReplacement(
            path,
            Matcher.quoteReplacement(
                URLEncoder.encode(String.valueOf(value), StandardCharsets.UTF_8)
                    .replace("+", "%20")));
      }
      m.appendTail(path);
      if (!hasBody && !fields.isEmpty()) {
        com.linecorp.armeria.common.QueryParamsBuilder query = QueryParams.builder();
        fields.forEach(
            (k, v) -> {
              if (v != null && !(v instanceof Map) && !(v instanceof Iterable)) {
                query.add(k, String.valueOf(v));
              }
            });
        path.append('?').append(query.build().toQueryString());
      }
      return path.toString();
    }
  }

  /** The gRPC binding over an Armeria gRPC channel, with the operations' codecs as marshallers. */
  final class Grpc implements Callers {
    private final Channel channel;
    private final Codecs codecs;
    private final Map<Operation<?, ?>, MethodDescriptor<?, ?>> methods = new ConcurrentHashMap<>();

    Grpc(
        SessionProtocol protocol,
        EndpointGroup endpoints,
        ClientFactory factory,
        Codecs codecs,
        CallCredentials credentials) {
      var builder =
          GrpcClients.builder(protocol, endpoints)
              .factory(factory)
              .useMethodMarshaller(true)
              .responseTimeout(Duration.ZERO)
              .clientStubFactory(new ChannelOnly());
      if (credentials != null) {
        builder.decorator(credentials::decorate);
      }
      this.channel = builder.build(Channel.class);
      this.codecs = codecs;
    }

    /** The underlying channel, for generated grpc-java stubs. */
    Channel channel() {
      return channel;
    }

    @Override
    public <I, O> CompletableFuture<O> attempt(
        Operation<I, O> op, I input, Deadline deadline, String idempotencyKey) {
      @SuppressWarnings("unchecked")
      MethodDescriptor<I, O> method =
          (MethodDescriptor<I, O>)
              methods.computeIfAbsent(op, o -> GrpcOperations.clientMethod(op, codecs));
      CallOptions options = CallOptions.DEFAULT;
      if (deadline != null) {
        options =
            options.withDeadlineAfter(
                Math.max(1, deadline.remaining().toNanos()), TimeUnit.NANOSECONDS);
      }
      Channel target = channel;
      if (idempotencyKey != null) {
        Metadata extra = new Metadata();
        extra.put(
            Metadata.Key.of(StatusMapping.IDEMPOTENCY_KEY_HEADER, Metadata.ASCII_STRING_MARSHALLER),
            idempotencyKey);
        target =
            ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(extra));
      }
      ClientCall<I, O> call = target.newCall(method, options);
      CompletableFuture<O> result = new CompletableFuture<>();
      result.whenComplete(
          (v, e) -> {
            if (result.isCancelled()) {
              call.cancel("the caller gave up", null);
            }
          });
      ClientCalls.asyncUnaryCall(
          call,
          input,
          new StreamObserver<>() {
            @Override
            public void onNext(O value) {
              result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
              result.completeExceptionally(StatusMapping.clientFailure(t));
            }

            @Override
            public void onCompleted() {
              if (!result.isDone()) {
                result.completeExceptionally(
                    Status.of(Code.INTERNAL, "parley.rpc.no_response", "no response message")
                        .asException());
              }
            }
          });
      return result;
    }

    /** Lets {@code GrpcClientBuilder.build(Channel.class)} hand out the channel itself. */
    private static final class ChannelOnly implements GrpcClientStubFactory {
      private static final ServiceDescriptor NONE = ServiceDescriptor.newBuilder("parley").build();

      @Override
      public ServiceDescriptor findServiceDescriptor(Class<?> clientType) {
        return clientType == Channel.class ? NONE : null;
      }

      @Override
      public Object newClientStub(Class<?> clientType, Channel channel) {
        return channel;
      }
    }
  }

  /** The messaging binding: a command and its reply through the broker. */
  final class OverMessaging implements Callers {
    private final Messaging messaging;
    private final Duration defaultTimeout;
    private final CallCredentials credentials;

    OverMessaging(Messaging messaging, Duration defaultTimeout, CallCredentials credentials) {
      this.messaging = messaging;
      this.defaultTimeout = defaultTimeout;
      this.credentials = credentials;
    }

    @Override
    public <I, O> CompletableFuture<O> attempt(
        Operation<I, O> op, I input, Deadline deadline, String idempotencyKey) {
      Duration timeout = deadline == null ? defaultTimeout : deadline.remaining();
      if (timeout.isNegative() || timeout.isZero()) {
        return CompletableFuture.failedFuture(new DeadlineExceededException("deadline passed"));
      }
      String authorization = credentials == null ? null : credentials.authorization();
      CompletableFuture<O> call =
          authorization == null
              ? messaging.call(op, input, timeout)
              : messaging.call(op, input, timeout, authorization);
      return call.handle(
          (v, e) -> {
            if (e != null) {
              Throwable cause = StatusMapping.unwrap(e);
              if (cause instanceof dev.parley.error.RemoteException r) {
                throw exceptionOf(r.status());
              }
              throw StatusMapping.clientFailure(cause);
            }
            return v;
          });
    }
  }
}
