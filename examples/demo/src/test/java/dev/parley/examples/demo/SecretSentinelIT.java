package dev.parley.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.operation.Operation;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import dev.parley.testing.kit.CapturedOutput;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md S7 across one run: a sentinel password is the broker password of a running service
 * and the wrong password of refused ones, appears in broker URIs Parley refuses, and in the text of
 * exceptions handlers throw. Every failure path below runs while everything written to stdout and
 * stderr (the logs of Parley, Artemis, Armeria and the client libraries) is kept; then that output,
 * every exception (messages, causes, stack traces), the dead letters' headers, the answers over
 * REST, gRPC and messaging, and the health, operations and docs pages are searched for the
 * sentinel.
 */
@Timeout(180)
class SecretSentinelIT {

  private static final String SENTINEL = "Sentinel" + UUID.randomUUID().toString().substring(0, 8);

  record Order(String id) {}

  record Ticket(String id) {}

  static final Operation<Order, Ticket> CREATE =
      Operation.of("kitchen", "Create", Order.class, Ticket.class);

  @TempDir Path dir;

  private final List<String> evidence = new CopyOnWriteArrayList<>();

  /**
   * A handler's exception that quotes the sentinel password in a URI, after a key and as a bearer
   * token.
   */
  private static IllegalStateException leaky() {
    return new IllegalStateException(
        "database down: postgresql://app:"
            + SENTINEL
            + "@db.internal:5432/kitchen (user=app password="
            + SENTINEL
            + "); billing said 401 to Bearer "
            + SENTINEL
            + ".x");
  }

  @Test
  void theSentinelAppearsNowhere() throws Exception {
    CapturedOutput output = CapturedOutput.start();
    try (output;
        EmbeddedBroker broker =
            EmbeddedBroker.builder()
                .dataDirectory(dir)
                .ephemeralPorts()
                .user("kitchen", SENTINEL)
                .allowConsume("kitchen", "kitchen.#", "parley.reply.#")
                .allowSend("kitchen", "kitchen.#", "parley.reply.#")
                .build()
                .start()) {
      URI amqp = broker.amqpUri();
      URI stomp = broker.stompUri();
      String amqpWithSecret =
          "amqp://kitchen:" + SENTINEL + "@" + amqp.getHost() + ":" + amqp.getPort();

      // refused broker URIs and logins, each transport
      failure(() -> Messaging.builder().brokerUri("http://kitchen:" + SENTINEL + "@h:1/").build());
      failure(
          () -> Messaging.builder().brokerUri("amqp://kitchen:" + SENTINEL + " x@h:1/").build());
      failure(
          () ->
              Messaging.builder()
                  .brokerUri(
                      "amqp://intruder:" + SENTINEL + "@" + amqp.getHost() + ":" + amqp.getPort())
                  .build());
      failure(
          () ->
              Messaging.builder()
                  .brokerUri(
                      "stomp://intruder:"
                          + SENTINEL
                          + "@"
                          + stomp.getHost()
                          + ":"
                          + stomp.getPort())
                  .build());
      failure(
          () ->
              Messaging.builder()
                  .brokerUri("rabbitmq://guest:" + SENTINEL + "@127.0.0.1:5672/")
                  .build());

      try (Messaging kitchen =
          Messaging.builder()
              .service("kitchen")
              .brokerUri(amqpWithSecret)
              .codecs(Codecs.of(JsonCodec.of()))
              .build()) {
        // a permission refusal for a user whose password is the sentinel
        failure(
            () ->
                kitchen
                    .publish(Channel.event("billing.events", Order.class), new Order("x"))
                    .get(15, TimeUnit.SECONDS));

        // a handler's failure that quotes a secret: dead letter headers, the log line
        Channel<Order> events = Channel.event("kitchen.orders", Order.class);
        List<Message> deadLetters = new CopyOnWriteArrayList<>();
        kitchen.subscribeDeadLetters(events, "cook", deadLetters::add);
        kitchen.subscribe(
            events,
            "cook",
            (o, c) -> {
              throw leaky();
            },
            SubscriptionOptions.defaults().withRedelivery(Redelivery.none()));
        kitchen.publish(events, new Order("o-1")).get(15, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters.isEmpty());
        deadLetters.forEach(m -> evidence.add(m.headers().toString()));
        assertThat(deadLetters.get(0).headers().get("parley-error-message"))
            .contains("postgresql://app:****@db.internal")
            .contains("password=****")
            .contains("Bearer ****");

        // an operation served over REST, gRPC and messaging whose handler throws the same
        try (RpcServer server =
            RpcServer.builder()
                .codecs(Codecs.of(JsonCodec.of()))
                .messaging(kitchen)
                .serve(
                    CREATE,
                    (o, c) -> {
                      throw leaky();
                    })
                .build()
                .start()) {
          for (Binding binding : Binding.values()) {
            try (RpcClient client =
                RpcClient.builder()
                    .binding(binding)
                    .endpoints(Endpoints.of("127.0.0.1:" + server.port()))
                    .messaging(kitchen)
                    .messagingTimeout(Duration.ofSeconds(10))
                    .codecs(Codecs.of(JsonCodec.of()))
                    .build()) {
              failure(() -> client.call(CREATE, new Order("o-2")));
            }
          }
          HttpClient http = HttpClient.newHttpClient();
          for (String page :
              new String[] {"/internal/health", "/operations", "/docs/specification.json"}) {
            HttpResponse<String> response =
                http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + page))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(page).isEqualTo(200);
            evidence.add(page + ": " + response.body());
          }
          evidence.add(server.describeSecurity() + server.describePolicy());
        }
        evidence.add(kitchen.describe());
      }
    }
    String all = output.text();

    assertThat(evidence).hasSizeGreaterThanOrEqualTo(15);
    assertThat(evidence).allSatisfy(e -> assertThat(e).doesNotContain(SENTINEL));
    assertThat(all).as("all output of the run").doesNotContain(SENTINEL);
    assertThat(all).as("the handler failures were logged").contains("postgresql://app:****@");
  }

  interface Action {
    Object run() throws Exception;
  }

  /** Runs an action that must fail; keeps its whole text (messages, causes, stack traces). */
  private void failure(Action action) {
    try {
      Object result = action.run();
      if (result instanceof AutoCloseable c) {
        c.close();
      }
      throw new AssertionError("expected a failure");
    } catch (AssertionError e) {
      throw e;
    } catch (Throwable t) {
      StringWriter text = new StringWriter();
      t.printStackTrace(new PrintWriter(text));
      evidence.add(text.toString());
    }
  }
}
