package dev.parley.testing.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A private PostgreSQL server for tests that crash the database: a cluster of its own in a
 * temporary directory, on a free loopback port, that {@link #kill()} stops with SIGKILL (the
 * postmaster and every backend at once, as a machine losing power would) and {@link #start()}
 * brings back through crash recovery. Needs the machine's PostgreSQL binaries ({@code
 * /usr/lib/postgresql/<n>/bin}) and to run as root (the server runs as the {@code postgres} user,
 * through {@code runuser}).
 */
public final class PostgresNode implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final List<String> AS_POSTGRES = List.of("runuser", "-u", "postgres", "--");

  private final Path directory;
  private final Path bin;
  private final int port;
  private Process process;

  private PostgresNode(Path directory, Path bin) {
    this.directory = directory;
    this.bin = bin;
    this.port = Ports.free();
  }

  /** Creates a cluster in a temporary directory and starts it. */
  public static PostgresNode startTemporary() {
    try {
      Path bin = binaries();
      Path dir = Files.createTempDirectory("parley-pg-");
      UserPrincipal postgres =
          dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
      Files.setOwner(dir, postgres);
      PostgresNode node = new PostgresNode(dir, bin);
      node.run(
          List.of(
              bin.resolve("initdb").toString(),
              "-D",
              dir.resolve("data").toString(),
              "-A",
              "trust",
              "-U",
              "postgres",
              "--no-sync",
              "-E",
              "UTF8",
              "--locale=C"));
      node.start();
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path binaries() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    try (Stream<Path> versions = Files.list(root)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("postgres")))
          .max(Comparator.naturalOrder())
          .orElseThrow(() -> new IOException("no PostgreSQL binaries under " + root));
    }
  }

  /** Starts the server (after a kill: through crash recovery) and waits until it accepts. */
  public synchronized void start() {
    if (process != null && process.isAlive()) {
      return;
    }
    try {
      List<String> command = new ArrayList<>(AS_POSTGRES);
      command.addAll(
          List.of(
              bin.resolve("postgres").toString(),
              "-D",
              directory.resolve("data").toString(),
              "-p",
              Integer.toString(port),
              "-k",
              directory.toString(),
              "-c",
              "listen_addresses=127.0.0.1",
              "-c",
              "fsync=on",
              "-c",
              "synchronous_commit=on"));
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(directory.resolve("server.log").toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Awaitility.await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .until(this::accepts);
  }

  private boolean accepts() throws SQLException {
    try (Connection c = dataSource().getConnection()) {
      return c.isValid(1);
    }
  }

  /** SIGKILL to the postmaster and all its processes; the data directory stays. */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    List<ProcessHandle> all = new ArrayList<>();
    process.descendants().forEach(all::add);
    all.add(process.toHandle());
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle p : all) {
      p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
    }
    process = null;
  }

  public int port() {
    return port;
  }

  /** A data source for database {@code postgres} as user {@code postgres} on this server. */
  public PGSimpleDataSource dataSource() {
    return ScratchDatabase.postgres(null, port, "postgres");
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  @Override
  public void close() {
    kill();
    try (Stream<Path> files = Files.walk(directory)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind
    }
  }

  private void run(List<String> command) {
    List<String> full = new ArrayList<>(AS_POSTGRES);
    full.addAll(command);
    try {
      Process p =
          new ProcessBuilder(full)
              .redirectErrorStream(true)
              .redirectOutput(directory.resolve("initdb.log").toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("initdb failed; see " + directory.resolve("initdb.log"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
