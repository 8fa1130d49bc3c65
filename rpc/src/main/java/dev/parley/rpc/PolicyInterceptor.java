package dev.parley.rpc;

import dev.parley.error.RejectedException;
import dev.parley.policy.Deadline;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Applies the server's gate (call limit, policy, authentication and access rules) to plain
 * grpc-java services, and makes the caller's deadline {@linkplain Deadline#current() current} while
 * their methods run.
 */
final class PolicyInterceptor implements ServerInterceptor {

  private final ServerGate gate;

  PolicyInterceptor(ServerGate gate) {
    this.gate = gate;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Optional<RejectedException> refused = gate.admit();
    if (refused.isPresent()) {
      io.grpc.StatusRuntimeException e = StatusMapping.toGrpc(refused.get().status());
      call.close(e.getStatus(), e.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    com.linecorp.armeria.server.ServiceRequestContext ctx =
        com.linecorp.armeria.server.ServiceRequestContext.currentOrNull();
    if (ctx != null && gate.authenticates()) {
      try {
        MethodDescriptor<Q, R> method = call.getMethodDescriptor();
        gate.authorize(
            String.valueOf(method.getServiceName()),
            String.valueOf(method.getBareMethodName()),
            ctx,
            ctx.request().headers());
      } catch (RuntimeException failure) {
        gate.release();
        io.grpc.StatusRuntimeException e = StatusMapping.toGrpc(StatusMapping.statusOf(failure));
        call.close(e.getStatus(), e.getTrailers());
        return new ServerCall.Listener<>() {};
      }
    }
    Deadline deadline = deadlineOf(headers);
    AtomicBoolean released = new AtomicBoolean();
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(call, headers);
    } catch (RuntimeException e) {
      gate.release();
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onHalfClose() {
        if (deadline == null) {
          super.onHalfClose();
          return;
        }
        try (Deadline.Scope scope = deadline.attach()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onComplete() {
        release();
        super.onComplete();
      }

      @Override
      public void onCancel() {
        release();
        super.onCancel();
      }

      private void release() {
        if (released.compareAndSet(false, true)) {
          gate.release();
        }
      }
    };
  }

  private static Deadline deadlineOf(Metadata headers) {
    com.linecorp.armeria.server.ServiceRequestContext ctx =
        com.linecorp.armeria.server.ServiceRequestContext.currentOrNull();
    if (ctx != null) {
      return ServerCallContext.deadlineOf(ctx.request().headers());
    }
    return ServerCallContext.deadlineOf(
        null, headers.get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER)));
  }
}
