package dev.parley.examples.demo;

import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.Status;
import dev.parley.messaging.Messaging;
import dev.parley.operation.CallContext;
import dev.parley.operation.Operation;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The same operation served once and called three ways: the kitchen's {@code EstimateTicket} over
 * REST, gRPC and messaging, chosen by configuration (here: a loop over the bindings), with one
 * policy and one error model.
 */
public final class SyncDemo {

  public record Estimate(String dish) {}

  public record Minutes(String dish, int minutes, String servedOver) {}

  /** What the sync part observed, for tests: minutes and the unknown dish's error per binding. */
  public record Outcome(Map<Binding, Integer> minutes, Map<Binding, String> errors) {}

  static final Operation<Estimate, Minutes> ESTIMATE =
      Operation.of("kitchen", "EstimateTicket", Estimate.class, Minutes.class)
          .withIdempotent(true)
          .withHttp("GET", "/kitchen/estimates/{dish}");

  private final Demo demo;

  public SyncDemo(Demo demo) {
    this.demo = demo;
  }

  /** The kitchen's handler: one for every binding. */
  static Minutes estimate(Estimate request, CallContext context) {
    int minutes =
        switch (request.dish()) {
          case "biryani" -> 25;
          case "dal" -> 10;
          default ->
              throw Status.of(
                      Code.NOT_FOUND,
                      "kitchen.unknown_dish",
                      "the kitchen does not cook '" + request.dish() + "'")
                  .asException();
        };
    return new Minutes(request.dish(), minutes, context.binding());
  }

  /** A server for the kitchen's operations over REST and gRPC on {@code port}, and messaging. */
  static RpcServer kitchenServer(int port, Messaging kitchen) {
    return RpcServer.builder()
        .port(port)
        .serve(ESTIMATE, SyncDemo::estimate)
        .messaging(kitchen)
        .build()
        .start();
  }

  /** Calls the operation over each binding from the order service. */
  public Outcome run(Messaging orders, Messaging kitchen) {
    Map<Binding, Integer> minutes = new LinkedHashMap<>();
    Map<Binding, String> errors = new LinkedHashMap<>();
    Policy policy =
        Policy.builder()
            .name("kitchen")
            .deadline(Duration.ofSeconds(5))
            .retry(3, Duration.ofMillis(50), Duration.ofSeconds(1))
            .circuitBreaker(50, 20, Duration.ofSeconds(10), 2)
            .build();
    try (RpcServer server = kitchenServer(0, kitchen)) {
      demo.print(
          "kitchen-service",
          "serving "
              + ESTIMATE.fullName()
              + " over REST and gRPC on port "
              + server.port()
              + " and over messaging");
      demo.print("order-service", "policy " + policy.describe());
      for (Binding binding : Binding.values()) {
        try (RpcClient client =
            RpcClient.builder()
                .binding(binding)
                .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
                .messaging(orders)
                .policy(policy)
                .build()) {
          Minutes m = client.call(ESTIMATE, new Estimate("biryani"));
          minutes.put(binding, m.minutes());
          demo.print(
              "order-service",
              "<- "
                  + binding
                  + ": "
                  + m.dish()
                  + " in "
                  + m.minutes()
                  + " min (served over "
                  + m.servedOver()
                  + ")");
          try {
            client.call(ESTIMATE, new Estimate("pizza"));
          } catch (ParleyException e) {
            errors.put(binding, e.status().code() + " " + e.errorCode());
            demo.print(
                "order-service", "<- " + binding + ": " + e.status().code() + " " + e.errorCode());
          }
        }
      }
    }
    return new Outcome(minutes, errors);
  }
}
