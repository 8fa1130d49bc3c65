package dev.parley.rpc;

import static dev.parley.rpc.Kitchen.CREATE_TICKET;
import static dev.parley.rpc.Kitchen.GET_TICKET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.MediaType;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.codec.protobuf.ProtobufJsonCodec;
import dev.parley.codec.xml.XmlCodec;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.messaging.Messaging;
import dev.parley.operation.Operation;
import dev.parley.rpc.Kitchen.CreateTicket;
import dev.parley.rpc.Kitchen.GetTicket;
import dev.parley.rpc.Kitchen.Ticket;
import dev.parley.rpc.test.GreetReply;
import dev.parley.rpc.test.GreetRequest;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.transport.amqp.AmqpTransport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One handler serves an operation; one test calls it over REST, gRPC and messaging. */
class ThreeBindingsIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static final Codecs CODECS =
      Codecs.of(JsonCodec.of(), XmlCodec.of(), ProtobufCodec.of(), ProtobufJsonCodec.of());

  /** An operation on protobuf messages: Protobuf by default, protobuf JSON on request. */
  static final Operation<GreetRequest, GreetReply> GREET =
      Operation.of("greeting", "Greet", GreetRequest.class, GreetReply.class);

  /** Waits for its caller's deadline (up to 5 s), then answers. */
  static final Operation<CreateTicket, Ticket> SLOW =
      Operation.of("kitchen", "Slow", CreateTicket.class, Ticket.class);

  private static final Kitchen kitchen = new Kitchen();
  private static Messaging serverMessaging;
  private static Messaging clientMessaging;
  private static RpcServer server;
  private static final Map<Binding, RpcClient> clients = new EnumMap<>(Binding.class);

  @BeforeAll
  static void start() {
    serverMessaging = messaging("kitchen");
    clientMessaging = messaging("orders");
    server =
        RpcServer.builder()
            .codecs(CODECS)
            .serve(CREATE_TICKET, kitchen::create)
            .serve(GET_TICKET, kitchen::get)
            .serve(
                SLOW,
                (request, ctx) -> {
                  java.util.concurrent.CountDownLatch cancelled =
                      new java.util.concurrent.CountDownLatch(1);
                  ctx.onCancel(cancelled::countDown);
                  cancelled.await(5, java.util.concurrent.TimeUnit.SECONDS);
                  return kitchen.create(request, ctx);
                })
            .serve(
                GREET,
                (request, ctx) ->
                    GreetReply.newBuilder().setMessage("hello " + request.getName()).build())
            .messaging(serverMessaging)
            .build()
            .start();
    for (Binding binding : Binding.values()) {
      clients.put(
          binding,
          RpcClient.builder()
              .binding(binding)
              .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
              .messaging(clientMessaging)
              .codecs(CODECS)
              .build());
    }
  }

  @AfterAll
  static void stop() {
    clients.values().forEach(RpcClient::close);
    server.close();
    clientMessaging.close();
    serverMessaging.close();
  }

  @Test
  void sameResultOverEveryBinding() {
    for (Binding binding : Binding.values()) {
      Ticket ticket = clients.get(binding).call(CREATE_TICKET, new CreateTicket("o-1", 3));

      assertThat(ticket)
          .as(binding.name())
          .isEqualTo(new Ticket("t-o-1", "o-1", 3, binding.name().toLowerCase()));
    }
  }

  @Test
  void declaredRouteServesGetWithPathVariables() {
    for (Binding binding : Binding.values()) {
      Ticket ticket = clients.get(binding).call(GET_TICKET, new GetTicket("t-o-9"));

      assertThat(ticket.orderId()).as(binding.name()).isEqualTo("o-9");
    }
  }

  @Test
  void sameCodeAndErrorCodeForTheSameFailureEverywhere() {
    for (Binding binding : Binding.values()) {
      RpcClient client = clients.get(binding);

      ParleyException notFound =
          catchThrowableOfType(
              ParleyException.class,
              () -> client.call(CREATE_TICKET, new CreateTicket("missing", 1)));
      ParleyException badInput =
          catchThrowableOfType(
              ParleyException.class, () -> client.call(CREATE_TICKET, new CreateTicket("o-2", 0)));
      ParleyException crashed =
          catchThrowableOfType(
              ParleyException.class,
              () -> client.call(CREATE_TICKET, new CreateTicket("crash", 1)));

      assertThat(notFound.status().code()).as(binding.name()).isEqualTo(Code.NOT_FOUND);
      assertThat(notFound.errorCode()).as(binding.name()).isEqualTo("kitchen.order_not_found");
      assertThat(badInput.status().code()).as(binding.name()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(badInput.errorCode()).as(binding.name()).isEqualTo("kitchen.bad_items");
      assertThat(crashed.status().code()).as(binding.name()).isEqualTo(Code.INTERNAL);
      assertThat(crashed.errorCode()).as(binding.name()).isEqualTo("parley.handler.failed");
    }
  }

  @Test
  void restAnswersXmlWhenAskedAndProblemJsonOnFailure() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + server.port() + "/kitchen/CreateTicket");

    HttpResponse<String> xml =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/json")
                .header("accept", "application/xml")
                .POST(HttpRequest.BodyPublishers.ofString("{\"orderId\":\"o-3\",\"items\":2}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> malformed =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"orderId\":"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(xml.statusCode()).isEqualTo(200);
    assertThat(xml.headers().firstValue("content-type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/xml"));
    assertThat(xml.body()).contains("<orderId>o-3</orderId>");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(malformed.body())
        .contains("\"code\":\"INVALID_ARGUMENT\"")
        .contains("\"errorCode\":\"parley.codec.malformed\"")
        .doesNotContain("at dev.parley");
  }

  @Test
  void restAnswersAnAcceptHeaderWithoutATypeWithProblemJsonNotInternal() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + server.port() + "/kitchen/CreateTicket");

    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/json")
                .header("accept", ";")
                .POST(HttpRequest.BodyPublishers.ofString("{\"orderId\":\"o-4\",\"items\":2}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(response.body())
        .contains("\"errorCode\":\"parley.rest.not_acceptable\"")
        .doesNotContain("at dev.parley")
        .doesNotContain("Exception");
  }

  /** Every error the HTTP stack answers itself is problem JSON with a code, naming no Java. */
  @Test
  void restFrameworkErrorsAreProblemJson() throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String base = "http://127.0.0.1:" + server.port();
    String json = "{\"orderId\":\"o-5\",\"items\":2}";

    Map<String, HttpResponse<String>> answers = new java.util.LinkedHashMap<>();
    answers.put(
        "404 parley.rest.no_route",
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/kitchen/NoSuchOperation"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString()));
    answers.put(
        "405 parley.rest.method_not_allowed",
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/kitchen/CreateTicket"))
                .PUT(HttpRequest.BodyPublishers.ofString(json))
                .header("content-type", "application/json")
                .build(),
            HttpResponse.BodyHandlers.ofString()));
    answers.put(
        "415 parley.rest.unsupported_media_type",
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/kitchen/CreateTicket"))
                .header("content-type", "text/csv")
                .POST(HttpRequest.BodyPublishers.ofString("o-5,2"))
                .build(),
            HttpResponse.BodyHandlers.ofString()));
    answers.put(
        "504 parley.deadline_exceeded",
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/kitchen/Slow"))
                .header("content-type", "application/json")
                .header("parley-timeout-ms", "300")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString()));

    answers.forEach(
        (expected, response) -> {
          String[] statusAndCode = expected.split(" ");
          assertThat(response.statusCode())
              .as(expected)
              .isEqualTo(Integer.parseInt(statusAndCode[0]));
          assertThat(response.headers().firstValue("content-type"))
              .as(expected)
              .hasValue("application/problem+json");
          assertThat(response.body())
              .as(expected)
              .contains("\"errorCode\":\"" + statusAndCode[1] + "\"")
              .contains("\"code\":")
              .doesNotContain("java.")
              .doesNotContain("Exception")
              .doesNotContain("armeria");
        });
  }

  @Test
  void protobufOperationsSpeakProtobufOrJsonOverRestAndProtobufOverGrpc() throws Exception {
    GreetRequest ann = GreetRequest.newBuilder().setName("ann").build();
    HttpClient http = HttpClient.newHttpClient();
    URI uri = URI.create("http://127.0.0.1:" + server.port() + "/greeting/Greet");

    HttpResponse<byte[]> binary =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/x-protobuf")
                .header("accept", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(ann.toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    HttpResponse<String> json =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"bob\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(binary.statusCode()).isEqualTo(200);
    assertThat(GreetReply.parseFrom(binary.body()).getMessage()).isEqualTo("hello ann");
    assertThat(json.statusCode()).isEqualTo(200);
    assertThat(json.body()).contains("\"message\":\"hello bob\"");
    for (Binding binding : Binding.values()) {
      assertThat(clients.get(binding).call(GREET, ann).getMessage())
          .as(binding.name())
          .isEqualTo("hello ann");
    }
  }

  /**
   * A server that also serves over messaging describes that side in AsyncAPI 3.0 at {@code
   * /asyncapi.json}, and the AsyncAPI initiative's parser accepts it (skipped where npm is absent).
   */
  @Test
  void theMessagingSideIsServedAsAsyncApi(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    HttpResponse<String> res =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/asyncapi.json"))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(res.body())
        .isEqualTo(server.asyncApi().orElseThrow())
        .contains("\"asyncapi\" : \"3.0.0\"")
        .contains(CREATE_TICKET.name());
    java.nio.file.Path file = dir.resolve("asyncapi.json");
    java.nio.file.Files.writeString(file, res.body());
    dev.parley.testing.kit.ContractTools.Run run =
        dev.parley.testing.kit.ContractTools.validateAsyncApi(file);
    assertThat(run.exitCode()).as(run.output()).isZero();
  }

  @Test
  void malformedGrpcInputAnswersInvalidArgumentWithTheCodecsErrorCode() {
    byte[] garbage = "{\"orderId\":".getBytes(StandardCharsets.UTF_8);
    ByteBuffer framed = ByteBuffer.allocate(5 + garbage.length);
    framed.put((byte) 0).putInt(garbage.length).put(garbage);
    int callsBefore = kitchen.calls.get();

    AggregatedHttpResponse res =
        WebClient.of("h2c://127.0.0.1:" + server.port())
            .prepare()
            .post("/kitchen/CreateTicket")
            .content(MediaType.parse("application/grpc"), framed.array())
            .header("te", "trailers")
            .execute()
            .aggregate()
            .join();

    HttpHeaders trailers = res.trailers().isEmpty() ? res.headers() : res.trailers();
    assertThat(trailers.get("grpc-status")).isEqualTo("3"); // INVALID_ARGUMENT
    assertThat(trailers.get("parley-error-code")).isEqualTo("parley.codec.malformed");
    assertThat(kitchen.calls.get()).as("handler calls").isEqualTo(callsBefore);
  }

  private static Messaging messaging(String service) {
    return Messaging.builder()
        .service(service)
        .transport(AmqpTransport.builder(broker.amqpUri()).build())
        .codecs(CODECS)
        .build();
  }
}
