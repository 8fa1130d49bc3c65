package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.xml.XmlCodec;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: the OpenAPI 3.1 document generated from the operations, served at {@code
 * /openapi.json}, read by a standard parser (swagger-parser) without a message, and describing what
 * the server really answers.
 */
class OpenApiIT {

  @Test
  void theServedDocumentIsValidOpenApiAndDescribesTheRoutes() throws Exception {
    Kitchen kitchen = new Kitchen();
    try (RpcServer server =
        RpcServer.builder()
            .codecs(Codecs.of(JsonCodec.of(), XmlCodec.of()))
            .apiInfo("Kitchen API", "2.1")
            .serve(Kitchen.CREATE_TICKET, kitchen::create)
            .serve(Kitchen.GET_TICKET, kitchen::get)
            .build()
            .start()) {
      HttpResponse<String> served =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.port() + "/openapi.json"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(served.statusCode()).isEqualTo(200);
      assertThat(served.body()).isEqualTo(server.openApi());

      ParseOptions options = new ParseOptions();
      options.setResolve(true);
      SwaggerParseResult result = new OpenAPIV3Parser().readContents(served.body(), null, options);
      assertThat(result.getMessages()).as("swagger-parser's messages").isEmpty();
      OpenAPI api = result.getOpenAPI();
      assertThat(api.getOpenapi()).isEqualTo("3.1.0");
      assertThat(api.getInfo().getTitle()).isEqualTo("Kitchen API");

      Operation create = api.getPaths().get("/kitchen/CreateTicket").getPost();
      assertThat(create.getOperationId()).isEqualTo("kitchen.CreateTicket");
      assertThat(create.getRequestBody().getContent().keySet())
          .containsExactly("application/json", "application/xml");
      assertThat(create.getParameters())
          .extracting(Parameter::getName)
          .containsExactly("parley-timeout-ms", "Idempotency-Key");
      assertThat(create.getResponses().keySet())
          .contains("200", "400", "429", "500", "504", "default");
      assertThat(create.getResponses().get("400").getContent())
          .containsKey("application/problem+json");

      Operation get = api.getPaths().get("/tickets/{id}").getGet();
      assertThat(get.getParameters().get(0).getName()).isEqualTo("id");
      assertThat(get.getParameters().get(0).getIn()).isEqualTo("path");
      assertThat(get.getRequestBody()).isNull();

      JsonNode tree = new ObjectMapper().readTree(served.body());
      JsonNode createTicket = tree.at("/components/schemas/CreateTicket");
      assertThat(createTicket.at("/properties/orderId/type").asText()).isEqualTo("string");
      assertThat(createTicket.at("/properties/items/format").asText()).isEqualTo("int32");
      assertThat(createTicket.at("/required/0").asText()).isEqualTo("items");
      assertThat(tree.at("/components/schemas/Problem/properties/code/enum").toString())
          .contains("INVALID_ARGUMENT", "UNAUTHENTICATED");
    }
  }

  @Test
  void anAuthenticatingServerDescribesItsSchemesAnd401And403() throws Exception {
    String json =
        dev.parley.rpc.contract.OpenApi.builder("k", "1")
            .operations(java.util.List.of(Kitchen.CREATE_TICKET))
            .codecs(Codecs.of(JsonCodec.of()))
            .authenticated(true)
            .toJson();
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(json, null, new ParseOptions());
    assertThat(result.getMessages()).isEmpty();
    assertThat(result.getOpenAPI().getComponents().getSecuritySchemes())
        .containsKeys("bearer", "clientCertificate");
    assertThat(result.getOpenAPI().getPaths().get("/kitchen/CreateTicket").getPost().getResponses())
        .containsKeys("401", "403");
  }

  /**
   * An AsyncAPI document with every kind of entry (events with groups, commands, an operation as
   * request/reply) passes the AsyncAPI initiative's parser; skipped only where npm's install of it
   * is absent (the skip says so).
   */
  @Test
  void anAsyncApiDocumentWithRequestReplyPassesTheAsyncApiParser() throws Exception {
    record Cooked(String ticketId) {}
    String json =
        dev.parley.rpc.contract.AsyncApi.builder("kitchen", "1")
            .event(
                dev.parley.messaging.Channel.event("kitchen.events", Cooked.class),
                "kitchen",
                "billing",
                "audit")
            .command(
                dev.parley.messaging.Channel.command("kitchen.commands", Kitchen.CreateTicket.class)
                    .withPartitionKey(Kitchen.CreateTicket::orderId),
                "kitchen")
            .operation(Kitchen.CREATE_TICKET)
            .operation(Kitchen.GET_TICKET)
            .toJson();
    JsonNode tree = new ObjectMapper().readTree(json);
    assertThat(tree.at("/operations/kitchen.CreateTicket/reply/address/location").asText())
        .isEqualTo("$message.header#/parley-reply-to");
    assertThat(tree.at("/channels/kitchen.events.billing.dlq/address").asText())
        .isEqualTo("kitchen.events.billing.dlq");
    assertThat(tree.at("/operations/audit.consume.kitchen.events/x-parley-group").asText())
        .isEqualTo("audit");

    java.nio.file.Path file = java.nio.file.Files.createTempFile("asyncapi-", ".json");
    try {
      java.nio.file.Files.writeString(file, json);
      dev.parley.testing.kit.ContractTools.Run run =
          dev.parley.testing.kit.ContractTools.validateAsyncApi(file);
      assertThat(run.exitCode()).as(run.output()).isZero();
      assertThat(run.output()).contains("VALID: AsyncAPI 3.0.0");
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }
}
