package dev.parley.rpc;

import com.google.protobuf.Descriptors;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.codec.Codec;
import dev.parley.codec.Codecs;
import dev.parley.error.Code;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import dev.parley.rpc.contract.ProtoSchemas;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The gRPC binding: each operation becomes a unary method {@code {service}/{name}}. Record
 * operations speak Protobuf with the descriptors {@link ProtoSchemas} derives ({@code
 * application/grpc}, the served {@code .proto}) and the operation's JSON codec for {@code
 * application/grpc+json}; operations on generated Protobuf messages use those (their service is
 * derived all the same, importing the messages' files). A service whose types have no Protobuf
 * mapping keeps its codecs on the wire and is not described (no {@code .proto}, not in reflection
 * nor DocService). Runs on the blocking executor (see {@link RpcServer}).
 */
final class GrpcOperations {

  private GrpcOperations() {}

  /**
   * The operations' services: those with a Protobuf description (reflection and DocService list
   * them), the others, and the {@code .proto} files of the described ones by file name.
   */
  record Definitions(
      List<ServerServiceDefinition> described,
      List<ServerServiceDefinition> undescribed,
      Map<String, String> protoFiles) {}

  static Definitions definitions(
      List<RpcServer.Served<?, ?>> served, Codecs codecs, ServerGate gate) {
    Map<String, List<RpcServer.Served<?, ?>>> byService = new LinkedHashMap<>();
    for (RpcServer.Served<?, ?> s : served) {
      byService.computeIfAbsent(s.operation().service(), k -> new ArrayList<>()).add(s);
    }
    // a service is described when its own types map to Protobuf; one package's services are
    // derived together, as the one file reflection and /proto/ give out
    Map<String, List<Operation<?, ?>>> describedByPackage = new LinkedHashMap<>();
    byService.forEach(
        (service, list) -> {
          List<Operation<?, ?>> ops =
              list.stream().<Operation<?, ?>>map(RpcServer.Served::operation).toList();
          if (derivable(ops)) {
            describedByPackage
                .computeIfAbsent(ProtoSchemas.packageOf(service), p -> new ArrayList<>())
                .addAll(ops);
          }
        });
    Map<String, Descriptors.FileDescriptor> files = new LinkedHashMap<>();
    Map<String, String> texts = new LinkedHashMap<>();
    describedByPackage.forEach(
        (pkg, ops) -> {
          try {
            Map<String, Descriptors.FileDescriptor> derived = ProtoSchemas.descriptors(ops);
            files.putAll(derived);
            derived.forEach((name, file) -> texts.put(name, ProtoSchemas.text(file)));
            derived.values().forEach(f -> addImports(f, texts));
          } catch (IllegalArgumentException e) {
            // two services of one package clash (say, two types of one name): neither is described
          }
        });
    List<ServerServiceDefinition> described = new ArrayList<>();
    List<ServerServiceDefinition> undescribed = new ArrayList<>();
    byService.forEach(
        (service, list) -> {
          Descriptors.FileDescriptor file = files.get(ProtoSchemas.fileOf(service));
          Descriptors.ServiceDescriptor proto =
              file == null ? null : file.findServiceByName(simpleName(service));
          if (proto == null) {
            ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service);
            list.forEach(s -> add(b, s, codecs, null, null, gate));
            undescribed.add(b.build());
          } else {
            RecordProtobufCodec codec =
                codecOf(
                    file, list.stream().<Operation<?, ?>>map(RpcServer.Served::operation).toList());
            ServiceDescriptor.Builder sd =
                ServiceDescriptor.newBuilder(service).setSchemaDescriptor(new Schema(proto, null));
            List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
            for (RpcServer.Served<?, ?> s : list) {
              MethodDescriptor<?, ?> m =
                  serverMethod(
                      s.operation(), codecs, codec, proto.findMethodByName(s.operation().name()));
              methods.add(m);
              sd.addMethod(m);
            }
            ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sd.build());
            for (int i = 0; i < list.size(); i++) {
              addMethod(b, list.get(i), methods.get(i), gate);
            }
            described.add(b.build());
          }
        });
    return new Definitions(described, undescribed, texts);
  }

  /**
   * The files a derived file imports (generated messages' own, {@code google/protobuf/...}), as
   * their {@code .proto} source where it is on the class path (protobuf-java and the
   * protobuf-maven-plugin put it there), so a client can fetch everything it compiles.
   */
  private static void addImports(Descriptors.FileDescriptor file, Map<String, String> texts) {
    for (Descriptors.FileDescriptor dep : file.getDependencies()) {
      if (texts.containsKey(dep.getName())) {
        continue;
      }
      ClassLoader loader = GrpcOperations.class.getClassLoader();
      try (java.io.InputStream in = loader.getResourceAsStream(dep.getName())) {
        if (in != null) {
          texts.put(
              dep.getName(),
              new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
      } catch (java.io.IOException e) {
        // not served; reflection still gives the descriptor
      }
      addImports(dep, texts);
    }
  }

  private static boolean derivable(List<Operation<?, ?>> ops) {
    try {
      ProtoSchemas.descriptors(ops);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static RecordProtobufCodec codecOf(
      Descriptors.FileDescriptor file, List<Operation<?, ?>> ops) {
    Set<Class<?>> records = new LinkedHashSet<>();
    for (Operation<?, ?> op : ops) {
      if (op.inputType().isRecord()) {
        records.add(op.inputType());
      }
      if (op.outputType().isRecord()) {
        records.add(op.outputType());
      }
    }
    return RecordProtobufCodec.of(file, records).orElse(null);
  }

  private static String simpleName(String service) {
    int dot = service.lastIndexOf('.');
    return dot < 0 ? service : service.substring(dot + 1);
  }

  /**
   * The client's view of an operation's gRPC method: Protobuf with the derived descriptors for
   * record operations, the operation's codecs otherwise.
   */
  static <I, O> MethodDescriptor<I, O> clientMethod(Operation<I, O> op, Codecs codecs) {
    RecordProtobufCodec proto;
    try {
      Descriptors.FileDescriptor file =
          ProtoSchemas.descriptors(List.of(op)).get(ProtoSchemas.fileOf(op.service()));
      proto = codecOf(file, List.of(op));
    } catch (IllegalArgumentException e) {
      proto = null; // no Protobuf mapping: the operation's codecs on the wire
    }
    return MethodDescriptor.<I, O>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(op.service(), op.name()))
        .setRequestMarshaller(marshaller(op.inputType(), codecs, proto))
        .setResponseMarshaller(marshaller(op.outputType(), codecs, proto))
        .setIdempotent(op.isIdempotent())
        .build();
  }

  private static <T> CodecMarshaller<T> marshaller(
      Class<T> type, Codecs codecs, RecordProtobufCodec proto) {
    Codec json = jsonCodec(codecs, type);
    if (proto != null && proto.supports(type)) {
      return new CodecMarshaller<>(proto, json, type);
    }
    return new CodecMarshaller<>(codecs.encoderFor(type), json, type);
  }

  /** The codec for {@code application/grpc+json}: the JSON one for the type, else its encoder. */
  private static Codec jsonCodec(Codecs codecs, Class<?> type) {
    try {
      return codecs.decoderFor("application/json", type);
    } catch (dev.parley.codec.CodecException e) {
      return codecs.encoderFor(type);
    }
  }

  private static <I, O> MethodDescriptor<Object, O> serverMethod(
      Operation<I, O> op,
      Codecs codecs,
      RecordProtobufCodec proto,
      Descriptors.MethodDescriptor schema) {
    MethodDescriptor.Builder<Object, O> b =
        MethodDescriptor.<Object, O>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(op.service(), op.name()))
            .setRequestMarshaller(
                new CodecMarshaller.Lenient<>(marshaller(op.inputType(), codecs, proto)))
            .setResponseMarshaller(marshaller(op.outputType(), codecs, proto))
            .setIdempotent(op.isIdempotent());
    if (schema != null) {
      b.setSchemaDescriptor(new Schema(schema.getService(), schema));
    }
    return b.build();
  }

  private static <I, O> void add(
      ServerServiceDefinition.Builder builder,
      RpcServer.Served<I, O> served,
      Codecs codecs,
      RecordProtobufCodec proto,
      Descriptors.MethodDescriptor schema,
      ServerGate gate) {
    addMethod(builder, served, serverMethod(served.operation(), codecs, proto, schema), gate);
  }

  @SuppressWarnings("unchecked")
  private static <I, O> void addMethod(
      ServerServiceDefinition.Builder builder,
      RpcServer.Served<I, O> served,
      MethodDescriptor<?, ?> method,
      ServerGate gate) {
    Operation<I, O> op = served.operation();
    builder.addMethod(
        (MethodDescriptor<Object, O>) method,
        ServerCalls.asyncUnaryCall(
            (Object request, StreamObserver<O> observer) ->
                handle(served, request, observer, gate)));
  }

  /** What server reflection and DocService read: the service's (and method's) descriptor. */
  static final class Schema
      implements io.grpc.protobuf.ProtoServiceDescriptorSupplier,
          io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final Descriptors.ServiceDescriptor service;
    private final Descriptors.MethodDescriptor method;

    Schema(Descriptors.ServiceDescriptor service, Descriptors.MethodDescriptor method) {
      this.service = service;
      this.method = method;
    }

    @Override
    public Descriptors.FileDescriptor getFileDescriptor() {
      return service.getFile();
    }

    @Override
    public Descriptors.ServiceDescriptor getServiceDescriptor() {
      return service;
    }

    @Override
    public Descriptors.MethodDescriptor getMethodDescriptor() {
      return method;
    }
  }

  /**
   * Admits the call on the event loop (refused at once beyond the server's call limit), then runs a
   * blocking handler on the blocking executor, an asynchronous one right here (on the blocking
   * executor too when the server authenticates: an authenticator may block).
   */
  private static <I, O> void handle(
      RpcServer.Served<I, O> served, Object request, StreamObserver<O> observer, ServerGate gate) {
    ServiceRequestContext ctx = ServiceRequestContext.current();
    Optional<RejectedException> refused = gate.admit();
    if (refused.isPresent()) {
      observer.onError(StatusMapping.toGrpc(refused.get().status()));
      return;
    }
    if (served.blocking() || gate.authenticates()) {
      try {
        ctx.blockingTaskExecutor().execute(() -> call(served, request, observer, gate, ctx));
      } catch (RuntimeException e) {
        gate.release();
        observer.onError(StatusMapping.toGrpc(StatusMapping.statusOf(e)));
      }
    } else {
      call(served, request, observer, gate, ctx);
    }
  }

  private static <I, O> void call(
      RpcServer.Served<I, O> served,
      Object request,
      StreamObserver<O> observer,
      ServerGate gate,
      ServiceRequestContext ctx) {
    Operation<I, O> op = served.operation();
    Deadline deadline = ServerCallContext.deadlineOf(ctx.request().headers());
    java.util.concurrent.CompletionStage<O> output;
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
      if (deadline == null) {
        output = served.invoke(input, call);
      } else {
        try (Deadline.Scope scope = deadline.attach()) {
          output = served.invoke(input, call);
        }
      }
    } catch (Throwable t) {
      gate.release();
      observer.onError(StatusMapping.toGrpc(StatusMapping.statusOf(t)));
      return;
    }
    output.whenComplete(
        (out, failure) -> {
          gate.release();
          if (failure != null) {
            observer.onError(StatusMapping.toGrpc(StatusMapping.statusOf(failure)));
          } else {
            observer.onNext(out);
            observer.onCompleted();
          }
        });
  }
}
