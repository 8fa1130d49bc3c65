package dev.parley.testing.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The embedded Artemis in a JVM of its own, so a chaos test can kill it the hard way ({@code
 * SIGKILL}: no shutdown hook, whatever the journal had not synced is gone) and start it again on
 * the same ports and journal. Loopback only; its directory is deleted on {@link #close()}.
 */
public final class ChildJvmBroker implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Path directory;
  private final int amqpPort;
  private final int stompPort;
  private Process process;

  private ChildJvmBroker(Path directory) {
    this.directory = directory;
    this.amqpPort = Ports.free();
    this.stompPort = Ports.free();
  }

  /** Starts a broker with a fresh journal in a temporary directory. */
  public static ChildJvmBroker start() {
    try {
      ChildJvmBroker b = new ChildJvmBroker(Files.createTempDirectory("parley-artemis-"));
      b.restart();
      return b;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the broker process (again), on the same ports and journal, and waits until it listens.
   */
  public synchronized void restart() {
    if (process != null && process.isAlive()) {
      return;
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(
                List.of(
                    java,
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    "dev.parley.broker.embedded.EmbeddedBrokerMain",
                    directory.resolve("data").toString(),
                    Integer.toString(amqpPort),
                    Integer.toString(stompPort)))
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(directory.resolve("broker.log").toFile()));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the broker JVM", e);
    }
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!accepts(amqpPort) || !accepts(stompPort)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the broker JVM exited during start-up; see " + directory.resolve("broker.log"));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the broker JVM did not listen within " + STARTUP);
      }
      pause();
    }
  }

  /** SIGKILL: the broker dies at once, mid-write if it was writing. */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the broker JVM did not die");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public URI amqpUri() {
    return URI.create("amqp://127.0.0.1:" + amqpPort);
  }

  public int amqpPort() {
    return amqpPort;
  }

  public URI stompUri() {
    return URI.create("stomp://127.0.0.1:" + stompPort);
  }

  @Override
  public void close() {
    kill();
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + directory, e);
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
