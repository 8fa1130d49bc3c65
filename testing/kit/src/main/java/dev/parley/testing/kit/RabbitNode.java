package dev.parley.testing.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A private RabbitMQ node for tests that stop or kill a broker: the machine's RabbitMQ package
 * started as a separate node on ephemeral loopback ports, with its own name, data directory, Erlang
 * cookie and configuration, so the shared node on 5672 is never touched. Plugins: consistent-hash
 * exchange and STOMP.
 *
 * <p>{@link #stop()} is a clean shutdown that keeps the data; {@link #kill()} is {@code kill -9};
 * {@link #start()} brings the same node back on the same ports and data.
 */
public final class RabbitNode implements AutoCloseable {

  private static final Path SERVER = Path.of("/usr/lib/rabbitmq/bin/rabbitmq-server");
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final int FIRST_START_TRIES = 3;
  private static final int LOG_TAIL_LINES = 15;

  private final Path directory;
  private final boolean temporary;
  private final int port;
  private final int stompPort;
  private final int tlsPort;
  private final String node;
  private final Map<String, String> environment;
  private Process process;

  private RabbitNode(Path directory, boolean temporary, String cookie, Tls tls) throws IOException {
    this.directory = directory;
    this.temporary = temporary;
    this.port = Ports.free();
    this.stompPort = Ports.free();
    this.tlsPort = tls == null ? -1 : Ports.free();
    int distPort = Ports.free();
    this.node = "parley" + port + "@localhost";
    Files.createDirectories(directory.resolve("home"));
    if (cookie != null) {
      // Nodes of one cluster (and their rabbitmqctl) share the Erlang cookie; a node without one
      // makes its own at its first start.
      Path file = directory.resolve("home").resolve(".erlang.cookie");
      Files.writeString(file, cookie, StandardCharsets.US_ASCII);
      Files.setPosixFilePermissions(
          file, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
    }
    Files.writeString(
        directory.resolve("rabbitmq.conf"),
        String.join(
            "\n",
            "listeners.tcp.default = 127.0.0.1:" + port,
            "stomp.listeners.tcp.1 = 127.0.0.1:" + stompPort,
            "loopback_users = none",
            "log.console = false",
            "log.file.level = warning",
            tls == null
                ? ""
                : String.join(
                    "\n",
                    "listeners.ssl.default = 127.0.0.1:" + tlsPort,
                    "ssl_options.certfile = " + tls.certificate().toAbsolutePath(),
                    "ssl_options.keyfile = " + tls.key().toAbsolutePath(),
                    "ssl_options.verify = verify_none",
                    "ssl_options.fail_if_no_peer_cert = false",
                    "")),
        StandardCharsets.UTF_8);
    Files.writeString(
        directory.resolve("enabled_plugins"),
        "[rabbitmq_consistent_hash_exchange,rabbitmq_stomp].\n",
        StandardCharsets.UTF_8);
    this.environment =
        Map.of(
            "RABBITMQ_NODENAME", node,
            "RABBITMQ_NODE_PORT", Integer.toString(port),
            "RABBITMQ_DIST_PORT", Integer.toString(distPort),
            "RABBITMQ_MNESIA_BASE", directory.resolve("mnesia").toString(),
            "RABBITMQ_LOG_BASE", directory.resolve("log").toString(),
            "RABBITMQ_ENABLED_PLUGINS_FILE", directory.resolve("enabled_plugins").toString(),
            "RABBITMQ_PID_FILE", directory.resolve("pid").toString(),
            "RABBITMQ_CONFIG_FILE", directory.resolve("rabbitmq.conf").toString(),
            "HOME", directory.resolve("home").toString());
  }

  /** Whether this machine has the RabbitMQ server package. */
  public static boolean isAvailable() {
    return Files.isExecutable(SERVER);
  }

  /**
   * Creates and starts a node in a temporary directory of its own, which {@link #close()} deletes
   * (unless the node's log is wanted: set {@code -Dparley.keepRabbitNode=true}).
   */
  public static RabbitNode startTemporary() {
    return startFresh(null, null, null);
  }

  /** The PEM files of a node's TLS listener: its certificate and its unencrypted key. */
  public record Tls(Path certificate, Path key) {}

  /** As {@link #startTemporary()}, with an AMQP-over-TLS listener too ({@link #tlsPort()}). */
  public static RabbitNode startTemporary(Tls tls) {
    return startFresh(null, null, java.util.Objects.requireNonNull(tls, "tls"));
  }

  /** As {@link #startTemporary()}, with the Erlang cookie of the cluster it is to join. */
  static RabbitNode startTemporary(String cookie) {
    return startFresh(null, cookie, null);
  }

  /** Creates and starts a node whose files live under {@code directory}. */
  public static RabbitNode start(Path directory) {
    return startFresh(directory, null, null);
  }

  /**
   * The ports are picked free but only bound seconds later by the Erlang VM, so another socket can
   * take one in between and the node exits at start-up. A node that exits at its first start is
   * therefore started again with fresh ports (and a fresh name), up to {@link #FIRST_START_TRIES}
   * times; a node that exits on a later {@link #start()} is not, since it must keep its ports.
   */
  private static RabbitNode startFresh(Path directory, String cookie, Tls tls) {
    IllegalStateException failure = null;
    for (int attempt = 1; attempt <= FIRST_START_TRIES; attempt++) {
      RabbitNode n;
      try {
        n =
            directory == null
                ? new RabbitNode(Files.createTempDirectory("parley-rabbit-"), true, cookie, tls)
                : new RabbitNode(directory, false, cookie, tls);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      try {
        n.start();
        return n;
      } catch (NodeExitedException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
        n.close();
      }
    }
    throw failure;
  }

  /** Starts the node (again) and waits until it accepts AMQP connections. */
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    ProcessBuilder pb =
        new ProcessBuilder(SERVER.toString())
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(directory.resolve("console.log").toFile()));
    pb.environment().putAll(environment);
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + SERVER, e);
    }
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!accepts(port) || !accepts(stompPort) || (tlsPort > 0 && !accepts(tlsPort))) {
      if (!process.isAlive()) {
        throw new NodeExitedException(
            "RabbitMQ node "
                + node
                + " (ports "
                + port
                + ", "
                + stompPort
                + ") exited during start-up with code "
                + process.exitValue()
                + "; the end of its console:\n"
                + tail(directory.resolve("console.log")));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "RabbitMQ node " + node + " did not start within " + STARTUP);
      }
      pause();
    }
  }

  /**
   * Makes this running node a member of {@code other}'s cluster (its own data is reset): {@code
   * stop_app}, {@code join_cluster}, {@code start_app}, then waits until it accepts connections
   * again. Both must have been started with the same cookie.
   */
  synchronized void joinCluster(RabbitNode other) {
    RabbitCtl ctl = ctl();
    ctl.run("stop_app");
    ctl.run("join_cluster", other.node);
    ctl.run("start_app");
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!accepts(port) || !accepts(stompPort)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "RabbitMQ node " + node + " did not accept connections within " + STARTUP);
      }
      pause();
    }
  }

  /** The Erlang node name, {@code parley<port>@localhost}. */
  public String nodeName() {
    return node;
  }

  /** Stops the node cleanly (it keeps its data) and waits for it to exit. */
  public synchronized void stop() {
    if (process == null || !process.isAlive()) {
      return;
    }
    ctl().run("stop");
    awaitExit();
  }

  /** Kills the node's Erlang VM with SIGKILL: no shutdown, whatever was not synced is lost. */
  public synchronized void kill() {
    if (process == null || !process.isAlive()) {
      return;
    }
    try {
      String pid = Files.readString(directory.resolve("pid"), StandardCharsets.US_ASCII).trim();
      Process k = new ProcessBuilder("kill", "-9", pid).inheritIO().start();
      k.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process.destroyForcibly();
    awaitExit();
  }

  /** rabbitmqctl for this node. */
  public RabbitCtl ctl() {
    // The package's wrapper switches user and HOME (and so the Erlang cookie): call the tool
    // itself.
    return new RabbitCtl(SERVER.resolveSibling("rabbitmqctl").toString(), node, environment);
  }

  public int port() {
    return port;
  }

  public int stompPort() {
    return stompPort;
  }

  /** The AMQP-over-TLS port; -1 for a node started without TLS. */
  public int tlsPort() {
    return tlsPort;
  }

  /** {@code amqp://guest:guest@127.0.0.1:<port>/<vhost>} ({@code /} for the default vhost). */
  public URI amqpUri(String vhost) {
    String path = "/".equals(vhost) ? "/%2F" : "/" + vhost;
    return URI.create("amqp://guest:guest@127.0.0.1:" + port + path);
  }

  public boolean isRunning() {
    return process != null && process.isAlive() && accepts(port);
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (RuntimeException e) {
      kill();
    }
    if (temporary && !Boolean.getBoolean("parley.keepRabbitNode")) {
      try (java.util.stream.Stream<Path> paths = Files.walk(directory)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete " + directory, e);
      }
    }
  }

  private void awaitExit() {
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (accepts(port) && System.nanoTime() < deadline) {
      pause();
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join(
          "\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  /** The node's VM exited before it accepted connections. */
  private static final class NodeExitedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    NodeExitedException(String message) {
      super(message);
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

  @SuppressWarnings("BusyWait") // polling a port of a child process, bounded by the caller
  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
