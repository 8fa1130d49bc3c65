package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.client.grpc.GrpcClients;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.rpc.test.GreetReply;
import dev.parley.rpc.test.GreetRequest;
import dev.parley.rpc.test.GreeterGrpc;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Browsers and JavaScript reach gRPC services without a proxy: plain HTTP/1.1 JSON (unframed and
 * HTTP/JSON transcoding) and gRPC-Web. The client here is the JDK's, forced to HTTP/1.1.
 */
class BrowserAccessIT {

  private static final HttpClient HTTP1 =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final Greeter greeter = new Greeter();
  private static RpcServer server;

  @BeforeAll
  static void start() {
    server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of()))
            .serve(Kitchen.CREATE_TICKET, new Kitchen()::create)
            .grpcService(greeter)
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void http1JsonPostReachesTheGrpcService() throws Exception {
    int before = greeter.calls.get();

    HttpResponse<String> res =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/parley.test.Greeter/Greet"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"browser\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).contains("\"message\":\"hello browser\"");
    assertThat(greeter.calls.get()).isEqualTo(before + 1);
  }

  @Test
  void httpJsonTranscodingServesTheDeclaredRoute() throws Exception {
    HttpResponse<String> res =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/v1/greetings/ann")).GET().build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body()).contains("\"message\":\"hello ann\"");
  }

  @Test
  void grpcWebRequestSucceedsOverHttp1() throws Exception {
    byte[] message = GreetRequest.newBuilder().setName("web").build().toByteArray();

    HttpResponse<byte[]> res =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/parley.test.Greeter/Greet"))
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(frame(0, message)))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/grpc-web"));
    ByteBuffer body = ByteBuffer.wrap(res.body());
    byte dataFlag = body.get();
    byte[] data = new byte[body.getInt()];
    body.get(data);
    byte trailerFlag = body.get();
    byte[] trailers = new byte[body.getInt()];
    body.get(trailers);
    assertThat(dataFlag).isEqualTo((byte) 0);
    assertThat(GreetReply.parseFrom(data).getMessage()).isEqualTo("hello web");
    assertThat(trailerFlag).isEqualTo((byte) 0x80);
    assertThat(new String(trailers, StandardCharsets.US_ASCII))
        .containsPattern("grpc-status: ?0\\b");
  }

  @Test
  void generatedStubGetsTheCallersDeadline() {
    GreeterGrpc.GreeterBlockingStub stub =
        GrpcClients.newClient(
            "http://127.0.0.1:" + server.port(), GreeterGrpc.GreeterBlockingStub.class);

    GreetReply reply =
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .greet(GreetRequest.newBuilder().setName("stub").build());

    assertThat(reply.getMessage()).isEqualTo("hello stub");
    assertThat(reply.getDeadlineMs()).isBetween(1L, 5000L);
  }

  @Test
  void operationsPageListsEveryOperationWithAForm() throws Exception {
    HttpResponse<String> page =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/operations")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> docs =
        HTTP1.send(
            HttpRequest.newBuilder(uri("/docs/specification.json")).GET().build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("kitchen/CreateTicket")
        .contains("POST /kitchen/CreateTicket")
        .contains("command channel kitchen.CreateTicket")
        .contains("Call over REST");
    assertThat(docs.statusCode()).isEqualTo(200);
    assertThat(docs.body()).contains("parley.test.Greeter");
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private static byte[] frame(int flag, byte[] payload) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataOutputStream data = new DataOutputStream(out);
    data.writeByte(flag);
    data.writeInt(payload.length);
    data.write(payload);
    return out.toByteArray();
  }
}
