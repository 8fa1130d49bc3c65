package dev.parley.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class DemoIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Test
  void showsEveryStyleAndDeadLettersTheFailingEvent() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    Demo demo = new Demo(new PrintStream(printed, true, StandardCharsets.UTF_8));
    Demo.Outcome outcome;
    Messaging kitchen =
        Messaging.builder()
            .service("kitchen-service")
            .brokerUri(broker.amqpUri().toString())
            .build();
    Messaging orders =
        Messaging.builder().service("order-service").brokerUri(broker.amqpUri().toString()).build();

    try (kitchen;
        orders) {
      outcome = demo.run(orders, kitchen);

      assertThat(kitchen.metrics().redelivered()).isEqualTo(2);
      assertThat(kitchen.metrics().retried()).isEqualTo(2);
    }

    assertThat(outcome)
        .isEqualTo(new Demo.Outcome(2, 1, "ticket-o-1", true, "parley.handler.failed"));
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains(
            "<- reply ticket-o-1",
            "parley.deadline_exceeded",
            "after 5 attempts",
            "restock 20 x basmati");
  }

  /**
   * The README's promise: with no configuration at all, the first Messaging starts the embedded
   * broker (default port, journal in the data directory) and both services share it.
   */
  @Test
  void runsOnEmbeddedDefaultsWithNoConfiguration(@TempDir Path dataDir) throws Exception {
    System.setProperty("parley.data.dir", dataDir.toString());
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    try {
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      Main.main(new String[0]);
    } finally {
      System.setOut(stdout);
      System.clearProperty("parley.data.dir");
    }

    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("done: Outcome[eventsHandled=2")
        .contains("sync: Outcome[minutes={REST=25, GRPC=25, MESSAGING=25}")
        .contains(
            "errors={REST=NOT_FOUND kitchen.unknown_dish, GRPC=NOT_FOUND kitchen.unknown_dish,"
                + " MESSAGING=NOT_FOUND kitchen.unknown_dish}");
    assertThat(dataDir.resolve("broker").resolve("journal")).isDirectoryContaining("glob:**.amq");
  }
}
