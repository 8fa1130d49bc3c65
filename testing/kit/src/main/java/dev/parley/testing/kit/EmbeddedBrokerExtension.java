package dev.parley.testing.kit;

import dev.parley.broker.embedded.EmbeddedBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts an {@link EmbeddedBroker} on ephemeral loopback ports with its journal in a fresh
 * temporary directory before a test class, and stops it and deletes the directory after. Register
 * it as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();
 * }</pre>
 *
 * Tests may {@link #stop()}, {@link #start()} or {@link #restart()} the broker; the journal and the
 * ports survive, so durable messages come back.
 */
public final class EmbeddedBrokerExtension implements BeforeAllCallback, AfterAllCallback {

  private Path directory;
  private EmbeddedBroker broker;

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    directory = Files.createTempDirectory("parley-broker-");
    broker = EmbeddedBroker.builder().dataDirectory(directory).ephemeralPorts().build();
    broker.start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      if (broker != null) {
        broker.close();
      }
    } finally {
      deleteRecursively(directory);
    }
  }

  /** The running broker. */
  public EmbeddedBroker broker() {
    if (broker == null) {
      throw new IllegalStateException(
          "broker not started: register the extension as a static field");
    }
    return broker;
  }

  public URI amqpUri() {
    return broker().amqpUri();
  }

  public URI stompUri() {
    return broker().stompUri();
  }

  public void stop() {
    broker().stop();
  }

  public void start() {
    broker().start();
  }

  /** Stops and starts the broker on the same ports and journal. */
  public void restart() {
    stop();
    start();
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
