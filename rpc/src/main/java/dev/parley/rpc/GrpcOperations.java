package dev.parley.rpc;

import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.codec.Codecs;
import dev.parley.error.Code;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.operation.Operation;
import dev.parley.operation.OperationHandler;
import dev.parley.policy.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The gRPC binding: each operation becomes a unary method {@code {service}/{name}} whose
 * marshallers are the operation's codecs. Runs on the blocking executor (see {@link RpcServer}).
 */
final class GrpcOperations {

  private GrpcOperations() {}

  /** One service definition per operation service. */
  static List<ServerServiceDefinition> definitions(
      List<RpcServer.Served<?, ?>> served, Codecs codecs, ServerGate gate) {
    Map<String, ServerServiceDefinition.Builder> byService = new LinkedHashMap<>();
    for (RpcServer.Served<?, ?> s : served) {
      add(
          byService.computeIfAbsent(s.operation().service(), ServerServiceDefinition::builder),
          s,
          codecs,
          gate);
    }
    return byService.values().stream().map(ServerServiceDefinition.Builder::build).toList();
  }

  /** The client's view of an operation's gRPC method. */
  static <I, O> MethodDescriptor<I, O> clientMethod(Operation<I, O> op, Codecs codecs) {
    return MethodDescriptor.<I, O>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(op.service(), op.name()))
        .setRequestMarshaller(
            new CodecMarshaller<>(codecs.encoderFor(op.inputType()), op.inputType()))
        .setResponseMarshaller(
            new CodecMarshaller<>(codecs.encoderFor(op.outputType()), op.outputType()))
        .setIdempotent(op.isIdempotent())
        .build();
  }

  private static <I, O> void add(
      ServerServiceDefinition.Builder builder,
      RpcServer.Served<I, O> served,
      Codecs codecs,
      ServerGate gate) {
    Operation<I, O> op = served.operation();
    MethodDescriptor<Object, O> method =
        MethodDescriptor.<Object, O>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(op.service(), op.name()))
            .setRequestMarshaller(
                new CodecMarshaller.Lenient<>(codecs.encoderFor(op.inputType()), op.inputType()))
            .setResponseMarshaller(
                new CodecMarshaller<>(codecs.encoderFor(op.outputType()), op.outputType()))
            .setIdempotent(op.isIdempotent())
            .build();
    builder.addMethod(
        method,
        ServerCalls.asyncUnaryCall(
            (Object request, StreamObserver<O> observer) ->
                handle(op, served.handler(), request, observer, gate)));
  }

  private static <I, O> void handle(
      Operation<I, O> op,
      OperationHandler<I, O> handler,
      Object request,
      StreamObserver<O> observer,
      ServerGate gate) {
    ServiceRequestContext ctx = ServiceRequestContext.current();
    Deadline deadline = ServerCallContext.deadlineOf(ctx.request().headers());
    Optional<RejectedException> refused = gate.admit();
    if (refused.isPresent()) {
      observer.onError(StatusMapping.toGrpc(refused.get().status()));
      return;
    }
    try {
      gate.authorize(op.service(), op.name(), ctx, ctx.request().headers());
      if (request instanceof CodecMarshaller.Malformed m) {
        throw m.error();
      }
      if (deadline != null && deadline.isExpired()) {
        throw Status.of(Code.DEADLINE_EXCEEDED, "parley.deadline_exceeded", "deadline passed")
            .asException();
      }
      ServerCallContext call =
          new ServerCallContext("grpc", ctx, ctx.request().headers(), deadline);
      I input = op.inputType().cast(request);
      O output;
      if (deadline == null) {
        output = handler.handle(input, call);
      } else {
        try (Deadline.Scope scope = deadline.attach()) {
          output = handler.handle(input, call);
        }
      }
      observer.onNext(output);
      observer.onCompleted();
    } catch (Throwable t) {
      observer.onError(StatusMapping.toGrpc(StatusMapping.statusOf(t)));
    } finally {
      gate.release();
    }
  }
}
