package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.CapturedOutput;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * S7 for the RabbitMQ transport: a sentinel password in the broker URI appears in no exception
 * (message, cause or stack trace) and no line written to stdout or stderr — the client library's
 * logs included — on each failure path a URI can take: a scheme no transport takes, a URI
 * amqp-client refuses, an unencoded space (not a URI at all), and a refused login on the machine's
 * RabbitMQ.
 */
class SecretRedactionIT {

  private static final String SENTINEL = "Sentinel" + UUID.randomUUID().toString().substring(0, 8);

  @Test
  void theBrokerPasswordLeaksNowhere() {
    List<String> failures = new ArrayList<>();
    CapturedOutput output = CapturedOutput.start();
    try (output) {
      failures.add(
          failure(() -> RabbitTransport.builder(URI.create("http://guest:" + SENTINEL + "@h:1/"))));
      failures.add(
          failure(
              () ->
                  RabbitTransport.builder(
                          URI.create("amqp://guest:" + SENTINEL + "@127.0.0.1:5672/a/b"))
                      .build()));
      failures.add(
          failure(
              () ->
                  Messaging.builder()
                      .brokerUri("rabbitmq://guest:" + SENTINEL + " x@127.0.0.1:5672/")
                      .build()));
      failures.add(
          failure(
              () ->
                  RabbitTransport.builder(
                          URI.create("amqp://guest:" + SENTINEL + "@127.0.0.1:5672/"))
                      .startupConnectAttempts(2)
                      .recoveryInterval(Duration.ofMillis(100))
                      .build()));
    }
    String all = output.text();

    assertThat(failures).hasSize(4).allSatisfy(f -> assertThat(f).doesNotContain(SENTINEL));
    assertThat(failures.get(0)).contains("http://guest:****@h:1/");
    assertThat(failures.get(1)).contains("amqp://guest:****@127.0.0.1:5672/a/b");
    assertThat(failures.get(2)).contains("not a URI");
    assertThat(failures.get(3)).contains("ACCESS_REFUSED");
    assertThat(all).doesNotContain(SENTINEL);
  }

  interface Action {
    Object run() throws Exception;
  }

  /** The failure's whole text: every message and stack trace of the exception and its causes. */
  private static String failure(Action action) {
    try {
      Object made = action.run();
      if (made instanceof AutoCloseable c) {
        c.close();
      }
    } catch (Exception e) {
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      return e + "\n" + trace;
    }
    throw new AssertionError("expected a failure");
  }
}
