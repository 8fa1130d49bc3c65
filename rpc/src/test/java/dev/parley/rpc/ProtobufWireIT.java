package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.MediaType;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.codec.protobuf.ProtobufJsonCodec;
import dev.parley.operation.Operation;
import dev.parley.rpc.test.GreetReply;
import dev.parley.rpc.test.GreetRequest;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a record operation served over gRPC speaks real Protobuf with the descriptors of its
 * served {@code .proto}. Clients that know nothing of Parley — grpc-java with descriptors fetched
 * by server reflection, a raw gRPC-Web request — call it; {@code application/grpc+json} keeps the
 * JSON codec; DocService lists it; hostile Protobuf is answered {@code INVALID_ARGUMENT}.
 */
class ProtobufWireIT {

  enum Spice {
    MILD,
    HOT
  }

  record Line(String dish, int quantity) {}

  record Everything(
      String name,
      Integer maybe,
      long big,
      boolean flag,
      double price,
      Spice spice,
      Optional<String> note,
      List<Line> lines,
      Map<String, Long> extras,
      Instant at,
      BigDecimal amount,
      UUID id,
      Set<String> tags,
      short small) {}

  record Blob(byte[] bytes) {}

  record Node(String name, Node child) {}

  static final Operation<Everything, Everything> ECHO =
      Operation.of("wire.v1.Echo", "Echo", Everything.class, Everything.class);
  static final Operation<Blob, Blob> BLOB =
      Operation.of("wire.v1.Echo", "Blob", Blob.class, Blob.class);
  static final Operation<Node, Node> DEPTH =
      Operation.of("wire.v1.Echo", "Depth", Node.class, Node.class);

  /** An operation on generated messages: its service is derived, its messages imported. */
  static final Operation<GreetRequest, GreetReply> GREET =
      Operation.of("wire.v1.Greeter", "Greet", GreetRequest.class, GreetReply.class);

  private static final AtomicInteger calls = new AtomicInteger();
  private static RpcServer server;
  private static RpcClient grpc;
  private static final HttpClient HTTP1 =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of(), ProtobufCodec.of(), ProtobufJsonCodec.of()))
            .serve(
                ECHO,
                (in, ctx) -> {
                  calls.incrementAndGet();
                  return in;
                })
            .serve(BLOB, (in, ctx) -> in)
            .serve(
                GREET,
                (in, ctx) -> GreetReply.newBuilder().setMessage("hello " + in.getName()).build())
            .serve(
                DEPTH,
                (in, ctx) -> {
                  calls.incrementAndGet();
                  return in;
                })
            .build()
            .start();
    grpc =
        RpcClient.builder()
            .binding(Binding.GRPC)
            .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
            .codecs(Codecs.of(JsonCodec.of(), ProtobufCodec.of(), ProtobufJsonCodec.of()))
            .build();
  }

  @AfterAll
  static void stop() {
    grpc.close();
    server.close();
  }

  static Everything full() {
    return new Everything(
        "biryani",
        7,
        1L << 40,
        true,
        12.5,
        Spice.HOT,
        Optional.of("no onions"),
        List.of(new Line("naan", 2), new Line("dal", 1)),
        Map.of("raita", 150L),
        Instant.parse("2026-12-02T10:15:30.123456789Z"),
        new BigDecimal("12.50"),
        UUID.fromString("0b6f9d3e-5a1c-4c8e-9d7b-2f1e3c4a5b6d"),
        Set.of("veg"),
        (short) -3);
  }

  @Test
  void everyMappedTypeRoundTripsOverGrpcAndNullsStayNull() {
    assertThat(grpc.call(ECHO, full())).isEqualTo(full());

    Everything empty =
        new Everything(
            null,
            null,
            0,
            false,
            0,
            null,
            Optional.empty(),
            List.of(),
            Map.of(),
            null,
            null,
            null,
            Set.of(),
            (short) 0);
    assertThat(grpc.call(ECHO, empty)).isEqualTo(empty);

    byte[] bytes = {0, 1, 2, (byte) 255};
    assertThat(grpc.call(BLOB, new Blob(bytes)).bytes()).containsExactly(bytes);
  }

  @Test
  void reflectionListsTheOperationsAndAPlainGrpcJavaClientCallsThemWithItsDescriptors()
      throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      List<ServerReflectionResponse> listed =
          reflect(channel, ServerReflectionRequest.newBuilder().setListServices("*").build());
      assertThat(listed.get(0).getListServicesResponse().getServiceList())
          .extracting(ServiceResponse::getName)
          .contains("wire.v1.Echo", "wire.v1.Greeter", "grpc.reflection.v1.ServerReflection");

      List<ServerReflectionResponse> files =
          reflect(
              channel,
              ServerReflectionRequest.newBuilder().setFileContainingSymbol("wire.v1.Echo").build());
      Map<String, FileDescriptorProto> protos = new HashMap<>();
      for (var bytes : files.get(0).getFileDescriptorResponse().getFileDescriptorProtoList()) {
        FileDescriptorProto p = FileDescriptorProto.parseFrom(bytes);
        protos.put(p.getName(), p);
      }
      assertThat(protos)
          .containsKeys("wire.v1.proto", "google/protobuf/timestamp.proto", "greeter.proto");
      Descriptors.FileDescriptor file = build("wire.v1.proto", protos);
      Descriptors.ServiceDescriptor echo = file.findServiceByName("Echo");
      assertThat(echo.getMethods())
          .extracting(Descriptors.MethodDescriptor::getName)
          .containsExactly("Echo", "Blob", "Depth");

      Descriptors.Descriptor in = echo.findMethodByName("Echo").getInputType();
      Descriptors.Descriptor line = file.findMessageTypeByName("Line");
      DynamicMessage request =
          DynamicMessage.newBuilder(in)
              .setField(in.findFieldByName("name"), "from grpc-java")
              .setField(in.findFieldByName("big"), 42L)
              .setField(
                  in.findFieldByName("spice"),
                  file.findEnumTypeByName("Spice").findValueByName("SPICE_HOT"))
              .addRepeatedField(
                  in.findFieldByName("lines"),
                  DynamicMessage.newBuilder(line)
                      .setField(line.findFieldByName("dish"), "samosa")
                      .setField(line.findFieldByName("quantity"), 4)
                      .build())
              .build();
      MethodDescriptor<DynamicMessage, DynamicMessage> method =
          MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName("wire.v1.Echo/Echo")
              .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(in)))
              .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(in)))
              .build();
      DynamicMessage reply =
          ClientCalls.blockingUnaryCall(
              channel,
              method,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
              request);

      assertThat(reply).isEqualTo(request);
      assertThat(reply.getField(in.findFieldByName("name"))).isEqualTo("from grpc-java");
      assertThat(reply.hasField(in.findFieldByName("note"))).isFalse();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void theProtoIsServedAndDocServiceListsTheOperations() throws Exception {
    HttpResponse<String> index = get("/proto/");
    HttpResponse<String> proto = get("/proto/wire.v1.proto");
    HttpResponse<String> docs = get("/docs/specification.json");

    assertThat(index.statusCode()).isEqualTo(200);
    // the derived file, then what it imports (and they import) from the class path
    assertThat(index.body())
        .startsWith("wire.v1.proto\n")
        .contains(
            "google/protobuf/timestamp.proto\n",
            "greeter.proto\n",
            "google/api/annotations.proto\n");
    assertThat(proto.statusCode()).isEqualTo(200);
    assertThat(proto.body())
        .isEqualTo(server.protoFiles().get("wire.v1.proto"))
        .contains("service Echo {\n  rpc Echo(Everything) returns (Everything);")
        .contains("  optional string name = 1;")
        .contains("  repeated Line lines = 8;")
        .contains("  map<string, int64> extras = 9;")
        .contains("import \"greeter.proto\";")
        .contains(
            "service Greeter {\n  rpc Greet(parley.test.GreetRequest) returns (parley.test.GreetReply);");
    assertThat(get("/proto/greeter.proto").body()).contains("message GreetRequest {");
    assertThat(docs.statusCode()).isEqualTo(200);
    assertThat(docs.body())
        .contains("\"id\" : \"wire.v1.Echo/Echo/POST\"")
        .contains("\"typeSignature\" : \"wire.v1.Everything\"");
  }

  @Test
  void anOperationOnGeneratedMessagesIsCalledByItsDerivedService() {
    assertThat(grpc.call(GREET, GreetRequest.newBuilder().setName("ann").build()).getMessage())
        .isEqualTo("hello ann");
  }

  @Test
  void grpcWebOverHttp1CarriesTheSameProtobuf() throws Exception {
    Descriptors.Descriptor in = descriptor("Everything");
    byte[] message =
        DynamicMessage.newBuilder(in)
            .setField(in.findFieldByName("name"), "web")
            .build()
            .toByteArray();

    HttpResponse<byte[]> res =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/wire.v1.Echo/Echo"))
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(frame(message)))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());

    assertThat(res.statusCode()).isEqualTo(200);
    ByteBuffer body = ByteBuffer.wrap(res.body());
    assertThat(body.get()).isEqualTo((byte) 0);
    byte[] data = new byte[body.getInt()];
    body.get(data);
    DynamicMessage reply = DynamicMessage.parseFrom(in, data);
    assertThat(reply.getField(in.findFieldByName("name"))).isEqualTo("web");
  }

  @Test
  void grpcJsonKeepsTheOperationsJsonCodec() {
    AggregatedHttpResponse res =
        grpcPost(
            "application/grpc+json",
            "{\"name\":\"json\",\"big\":5,\"flag\":true,\"price\":1.5,\"spice\":\"MILD\",\"small\":2}"
                .getBytes(StandardCharsets.UTF_8));

    assertThat(status(res)).as(trailers(res).toString()).isEqualTo("0");
    byte[] content = res.content().array();
    String json = new String(content, 5, content.length - 5, StandardCharsets.UTF_8);
    assertThat(json).contains("\"name\":\"json\"").contains("\"spice\":\"MILD\"");
  }

  @Test
  void anEnumNumberTheJavaEnumLacksIsInvalidArgument() {
    int before = calls.get();
    // field 6 (spice), varint 7: a number no Spice constant has
    AggregatedHttpResponse res = grpcPost("application/grpc", new byte[] {0x30, 0x07});

    assertThat(status(res)).isEqualTo("3");
    assertThat(trailers(res).get("parley-error-code")).isEqualTo("parley.codec.malformed");
    assertThat(calls.get()).as("handler calls").isEqualTo(before);
  }

  @Test
  void nestingBeyondProtobufsLimitIsInvalidArgumentNotAStackOverflow() throws Exception {
    byte[] nested = new byte[0];
    for (int i = 0; i < 500; i++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      coded.writeByteArray(2, nested); // field 2 (child), length-delimited
      coded.flush();
      nested = out.toByteArray();
    }
    int before = calls.get();

    AggregatedHttpResponse res = grpcPost("/wire.v1.Echo/Depth", "application/grpc", nested);

    assertThat(status(res)).isEqualTo("3");
    assertThat(trailers(res).get("parley-error-code")).isEqualTo("parley.codec.malformed");
    assertThat(calls.get()).as("handler calls").isEqualTo(before);
  }

  private static List<ServerReflectionResponse> reflect(
      ManagedChannel channel, ServerReflectionRequest request) throws Exception {
    List<ServerReflectionResponse> responses = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    responses.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
    requests.onNext(request);
    requests.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    assertThat(responses).hasSize(1);
    assertThat(responses.get(0).hasErrorResponse())
        .as(String.valueOf(responses.get(0).getErrorResponse()))
        .isFalse();
    return responses;
  }

  /** Builds a reflected file after the files it imports, as a dynamic client does. */
  private static Descriptors.FileDescriptor build(
      String name, Map<String, FileDescriptorProto> protos) throws Exception {
    FileDescriptorProto proto = protos.get(name);
    List<Descriptors.FileDescriptor> deps = new ArrayList<>();
    for (String dep : proto.getDependencyList()) {
      deps.add(build(dep, protos));
    }
    return Descriptors.FileDescriptor.buildFrom(
        proto, deps.toArray(new Descriptors.FileDescriptor[0]));
  }

  private static Descriptors.Descriptor descriptor(String message) {
    return dev.parley.rpc.contract.ProtoSchemas.descriptors(List.of(ECHO, BLOB, DEPTH, GREET))
        .get("wire.v1.proto")
        .findMessageTypeByName(message);
  }

  private static AggregatedHttpResponse grpcPost(String contentType, byte[] message) {
    return grpcPost("/wire.v1.Echo/Echo", contentType, message);
  }

  private static AggregatedHttpResponse grpcPost(String path, String contentType, byte[] message) {
    return WebClient.of("h2c://127.0.0.1:" + server.port())
        .prepare()
        .post(path)
        .content(MediaType.parse(contentType), frame(message))
        .header("te", "trailers")
        .execute()
        .aggregate()
        .join();
  }

  private static HttpHeaders trailers(AggregatedHttpResponse res) {
    return res.trailers().isEmpty() ? res.headers() : res.trailers();
  }

  private static String status(AggregatedHttpResponse res) {
    return trailers(res).get("grpc-status");
  }

  private static byte[] frame(byte[] message) {
    return ByteBuffer.allocate(5 + message.length)
        .put((byte) 0)
        .putInt(message.length)
        .put(message)
        .array();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP1.send(
        HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }
}
