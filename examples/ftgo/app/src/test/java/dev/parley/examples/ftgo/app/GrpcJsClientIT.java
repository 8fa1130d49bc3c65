package dev.parley.examples.ftgo.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.grpc.GrpcClients;
import dev.parley.examples.ftgo.common.Contracts;
import dev.parley.operation.Operation;
import dev.parley.rpc.contract.ProtoSchemas;
import dev.parley.testing.kit.ContractTools;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's acceptance: a non-Java gRPC client — gRPC's own Node.js client (@grpc/grpc-js with
 *
 * @grpc/proto-loader, installed by {@code .ci/contracts-setup}) — calls every operation of the FTGO
 *     system knowing only each server's address and the {@code .proto} it serves; server reflection
 *     lists every operation service. Skipped only where npm and that install are absent (the skip
 *     says so).
 */
class GrpcJsClientIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void grpcJsCallsEveryOperationFromTheServedProtoAndReflectionListsThem(@TempDir Path dir)
      throws Exception {
    ContractTools.requireTool("@grpc/grpc-js");
    System.setProperty("ftgo.broker.url", broker.amqpUri().toString());
    try (FtgoApp app = FtgoApp.start(0)) {
      Map<String, Integer> portOf =
          Map.of(
              "consumer", app.consumer.port(),
              "ftgo.Accounting", app.accounting.port(),
              "order", app.port());
      Map<String, Map<String, Object>> requests = new LinkedHashMap<>();
      requests.put("ValidateOrder", Map.of("consumerId", "alice", "totalCents", "1250"));
      requests.put(
          "AuthorizeCard",
          Map.of(
              "orderId", "js-1", "consumerId", "alice", "card", "4111 1111", "totalCents", "1250"));
      requests.put(
          "PlaceOrder",
          Map.of(
              "consumerId", "alice",
              "restaurant", "Ajanta",
              "dish", "biryani",
              "quantity", 2,
              "card", "4111 1111"));
      requests.put("GetOrder", Map.of("orderId", "${PlaceOrder.orderId}"));
      requests.put("ListOrders", Map.of("limit", 10));

      ArrayNode calls = JSON.createArrayNode();
      for (Operation<?, ?> op : Contracts.operations()) {
        assertThat(requests).as("a request for every operation").containsKey(op.name());
        int port = portOf.get(op.service());
        ObjectNode call = calls.addObject();
        call.put("address", "127.0.0.1:" + port);
        call.put(
            "proto", "http://127.0.0.1:" + port + "/proto/" + ProtoSchemas.fileOf(op.service()));
        call.put("service", op.service());
        call.put("method", op.name());
        call.set("request", JSON.valueToTree(requests.get(op.name())));
      }
      Path file = dir.resolve("calls.json");
      JSON.writeValue(file.toFile(), calls);

      ContractTools.Run run = ContractTools.node("@grpc/grpc-js", "grpc-call.mjs", file.toString());

      assertThat(run.exitCode()).as(run.output()).isZero();
      Map<String, JsonNode> answers = new LinkedHashMap<>();
      for (String line : run.output().split("\n")) {
        if (line.startsWith("{")) {
          JsonNode answer = JSON.readTree(line);
          answers.put(answer.get("call").asText(), answer.get("response"));
        }
      }
      assertThat(answers).hasSize(Contracts.operations().size());
      assertThat(answers.get("consumer/ValidateOrder").get("name").asText()).isEqualTo("Alice");
      assertThat(answers.get("ftgo.Accounting/AuthorizeCard").get("authorizationId").asText())
          .isEqualTo("auth-js-1");
      String orderId = answers.get("order/PlaceOrder").get("orderId").asText();
      assertThat(orderId).isNotBlank();
      assertThat(answers.get("order/PlaceOrder").get("quantity").asInt()).isEqualTo(2);
      assertThat(answers.get("order/GetOrder").get("orderId").asText()).isEqualTo(orderId);
      assertThat(answers.get("order/ListOrders").get("orders"))
          .extracting(o -> o.get("orderId").asText())
          .contains(orderId);

      for (Map.Entry<String, Integer> server : portOf.entrySet()) {
        assertThat(reflectedServices(server.getValue()))
            .as("reflection on the " + server.getKey() + " server")
            .contains(server.getKey(), "grpc.reflection.v1.ServerReflection");
      }
    } finally {
      System.clearProperty("ftgo.broker.url");
    }
  }

  private static List<String> reflectedServices(int port) throws Exception {
    ServerReflectionGrpc.ServerReflectionStub stub =
        GrpcClients.newClient(
            "http://127.0.0.1:" + port, ServerReflectionGrpc.ServerReflectionStub.class);
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        stub.serverReflectionInfo(
            new StreamObserver<>() {
              final List<String> seen = new ArrayList<>();

              @Override
              public void onNext(ServerReflectionResponse value) {
                value.getListServicesResponse().getServiceList().stream()
                    .map(ServiceResponse::getName)
                    .forEach(seen::add);
              }

              @Override
              public void onError(Throwable t) {
                names.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                names.complete(seen);
              }
            });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return names.get(15, TimeUnit.SECONDS);
  }
}
