package dev.parley.examples.ftgo.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.examples.ftgo.accounting.AccountingService;
import dev.parley.examples.ftgo.consumer.ConsumerService;
import dev.parley.examples.ftgo.kitchen.KitchenService;
import dev.parley.examples.ftgo.order.OrderService;
import dev.parley.testing.kit.RabbitVhostExtension;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The four services as separate processes (each its own JVM, started with its own {@code main})
 * against the machine's RabbitMQ (a vhost of this run's own) and PostgreSQL (a schema per service,
 * prefixed for this run) — configured only through {@code -Dftgo.*} properties. The Kitchen process
 * is killed and started again while an order waits for it; then the Consumer process is killed and
 * the next order is rejected.
 */
class MultiProcessIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";
  private final String prefix = "ftgo_" + UUID.randomUUID().toString().substring(0, 8) + "_";
  private final List<Process> processes = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() throws Exception {
    for (Process p : processes) {
      p.destroyForcibly().waitFor();
    }
    try (Connection c = DriverManager.getConnection(PG, "postgres", null);
        Statement s = c.createStatement()) {
      for (String service : List.of("consumer", "accounting", "kitchen", "order")) {
        s.execute("DROP SCHEMA IF EXISTS " + prefix + service + " CASCADE");
      }
    }
  }

  @Test
  void servicesInTheirOwnProcessesOnRabbitMqAndPostgresql() throws Exception {
    int consumerPort = freePort();
    int accountingPort = freePort();
    int orderPort = freePort();
    Process consumer = start(ConsumerService.class, Map.of("ftgo.consumer.port", consumerPort));
    start(AccountingService.class, Map.of("ftgo.accounting.port", accountingPort));
    Process kitchen = start(KitchenService.class, Map.of());
    start(
        OrderService.class,
        Map.of(
            "ftgo.order.port", orderPort,
            "ftgo.consumer.endpoints", "127.0.0.1:" + consumerPort,
            "ftgo.accounting.endpoints", "127.0.0.1:" + accountingPort));
    String base = "http://127.0.0.1:" + orderPort;
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .until(() -> get(base + "/").statusCode() == 200);

    String approved = place(base, "alice", "dal", "4111-1111-1111-1111");
    String declined = place(base, "alice", "dal", AccountingService.DECLINED_CARD);
    String refused = place(base, "alice", KitchenService.UNAVAILABLE_DISH, "4111-1111-1111-1111");

    awaitState(base, approved, "APPROVED");
    awaitState(base, declined, "REJECTED");
    awaitState(base, refused, "REJECTED");

    kitchen.destroyForcibly().waitFor();
    String waiting = place(base, "alice", "naan", "4111-1111-1111-1111");
    assertThat(get(base + "/api/orders/" + waiting).body())
        .contains("\"state\":\"APPROVAL_PENDING\"");
    start(KitchenService.class, Map.of());

    awaitState(base, waiting, "APPROVED");

    // a synchronous dependency down: the order is rejected, it cannot wait
    consumer.destroyForcibly().waitFor();
    String unvalidated = place(base, "alice", "dal", "4111-1111-1111-1111");
    awaitState(base, unvalidated, "REJECTED");
    assertThat(get(base + "/api/orders/" + unvalidated).body()).contains("consumer: parley.rpc.");
  }

  private Process start(Class<?> main, Map<String, Object> settings) throws IOException {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("ftgo.broker.url", "rabbitmq://guest:guest@127.0.0.1:5672/" + rabbit.vhost());
    all.put("ftgo.jdbc.url", PG);
    all.put("ftgo.schema.prefix", prefix);
    all.putAll(settings);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    all.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    File log =
        Path.of("target", "multiprocess-" + main.getSimpleName() + "-" + processes.size() + ".log")
            .toFile();
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    processes.add(p);
    return p;
  }

  private String place(String base, String consumer, String dish, String card) throws Exception {
    HttpResponse<String> res =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/api/orders"))
                .header("content-type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"consumerId\":\""
                            + consumer
                            + "\",\"restaurant\":\"Ajanta\",\"dish\":\""
                            + dish
                            + "\",\"quantity\":1,\"card\":\""
                            + card
                            + "\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    return res.body().replaceAll(".*\"orderId\":\"([^\"]+)\".*", "$1");
  }

  private void awaitState(String base, String orderId, String state) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () ->
                assertThat(get(base + "/api/orders/" + orderId).body())
                    .contains("\"state\":\"" + state + "\""));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
