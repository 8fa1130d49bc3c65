package dev.parley.rpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.InternalServer;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * gRPC server reflection (grpc-java's {@code ProtoReflectionServiceV1}, {@code
 * grpc.reflection.v1.ServerReflection}) over one server's services: the described operations, the
 * plain grpc-java services and itself — what grpcurl, Postman or a dynamic client list and call.
 *
 * <p>grpc-java's service finds the services through the {@link Server} in its call's context; this
 * puts one there that lists this server's services only. (Armeria's own wiring keeps one such list
 * per JVM, from the first server asked, which is wrong for several servers in one process.)
 */
final class GrpcReflection {

  private GrpcReflection() {}

  static ServerServiceDefinition service(
      List<ServerServiceDefinition> operations,
      List<ServerServiceDefinition> plain,
      ServerInterceptor policy) {
    List<ServerServiceDefinition> all = new ArrayList<>(operations);
    all.addAll(plain);
    ServerServiceDefinition reflection =
        ServerInterceptors.intercept(
            ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), policy),
            new Listing(new Services(all)));
    all.add(reflection);
    return reflection;
  }

  /** Puts the server's service list where the reflection service looks for it. */
  private record Listing(Server server) implements ServerInterceptor {
    @Override
    public <I, O> ServerCall.Listener<I> interceptCall(
        ServerCall<I, O> call, Metadata headers, ServerCallHandler<I, O> next) {
      Context context = Context.current().withValue(InternalServer.SERVER_CONTEXT_KEY, server);
      return Contexts.interceptCall(context, call, headers, next);
    }
  }

  /** A {@link Server} that only lists services; the reflection service asks nothing else. */
  private static final class Services extends Server {
    private final List<ServerServiceDefinition> services;

    Services(List<ServerServiceDefinition> services) {
      this.services = services;
    }

    @Override
    public List<ServerServiceDefinition> getServices() {
      return List.copyOf(services);
    }

    @Override
    public List<ServerServiceDefinition> getImmutableServices() {
      return getServices();
    }

    @Override
    public List<ServerServiceDefinition> getMutableServices() {
      return List.of();
    }

    @Override
    public Server start() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Server shutdown() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Server shutdownNow() {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void awaitTermination() {
      throw new UnsupportedOperationException();
    }
  }
}
