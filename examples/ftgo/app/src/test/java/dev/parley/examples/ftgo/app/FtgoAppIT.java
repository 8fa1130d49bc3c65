package dev.parley.examples.ftgo.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole system in one JVM: an order placed through the page's API goes through REST, gRPC, the
 * Kitchen's command and reply and the events; a scenario with failures and the Kitchen down for a
 * while ends clean.
 */
class FtgoAppIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static FtgoApp app;

  @BeforeAll
  static void start() {
    System.setProperty("ftgo.broker.url", broker.amqpUri().toString());
    app = FtgoApp.start(0);
  }

  @AfterAll
  static void stop() {
    app.close();
    System.clearProperty("ftgo.broker.url");
  }

  @Test
  void anOrderPlacedThroughThePageApiIsApprovedStepByStep() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + app.port();

    HttpResponse<String> page =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/")).build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> placed =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/api/orders"))
                .header("content-type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"consumerId\":\"alice\",\"restaurant\":\"Ajanta\",\"dish\":\"dal\","
                            + "\"quantity\":2,\"card\":\"4111-1111-1111-1111\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    String orderId = placed.body().replaceAll(".*\"orderId\":\"([^\"]+)\".*", "$1");

    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("Place order");
    assertThat(placed.statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              String order =
                  http.send(
                          HttpRequest.newBuilder(URI.create(base + "/api/orders/" + orderId))
                              .build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body();
              assertThat(order)
                  .contains("\"state\":\"APPROVED\"")
                  .contains("\"style\":\"REST\"")
                  .contains("\"style\":\"gRPC\"")
                  .contains("\"style\":\"command reply\"")
                  .contains("OrderApproved published");
            });
  }

  @Test
  void aScenarioWithFailuresAndTheKitchenDownEndsClean() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);

    FtgoApp.Scenario.Summary summary =
        new FtgoApp.Scenario(app, 0.3, Duration.ofSeconds(1), 42, out).run(200);
    summary.print(out);

    assertThat(summary.lost()).as("lost orders").isZero();
    assertThat(summary.orderViolations()).as("order violations").isZero();
    assertThat(summary.mismatched()).as("orders ending otherwise than expected").isZero();
    assertThat(summary.rejected()).as("failures were injected").isPositive();
    assertThat(summary.commandReply().p50())
        .as("commands waited in the broker while the kitchen was down")
        .isPositive();
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("kitchen down", "kitchen back", "CLEAN");
  }
}
