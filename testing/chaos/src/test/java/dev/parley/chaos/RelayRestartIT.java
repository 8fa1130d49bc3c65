package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.jdbc.Outbox;
import dev.parley.jdbc.Schema;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.ChildJvmBroker;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.ScratchDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * M17: a service that relays an outbox is killed with SIGKILL mid-run and started again. Its rows
 * go to several command queues, each key's rows one after another (the relay chains a key's next
 * send on the previous one's confirm), so sends to queues the new process has not seen yet start on
 * a confirm: before, on RabbitMQ, they ran a topology RPC on amqp-client's I/O thread and the new
 * relay never sent again. The backlog must drain and the next 1,000 sends succeed.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RelayRestartIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  record Cmd(String key, int seq) {}

  private static final int QUEUES = 8;
  private static final int KEYS = 30;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<Process> relays = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    relays.forEach(Process::destroyForcibly);
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  @Test
  void backlogDrainsAfterARelayingRabbitMqServiceIsKilled() throws Exception {
    run(rabbit.amqpUri().toString().replaceFirst("^amqp:", "rabbitmq:"));
  }

  @Test
  void backlogDrainsAfterARelayingArtemisServiceIsKilled() throws Exception {
    ChildJvmBroker broker = ChildJvmBroker.start();
    resources.add(broker);
    run(broker.amqpUri().toString());
  }

  private void run(String brokerUri) throws Exception {
    ScratchDatabase.Instance db = ScratchDatabase.POSTGRESQL.open();
    Schema.create(db.dataSource(), Schema.DEFAULT_PREFIX);
    String base = "m17." + UUID.randomUUID().toString().substring(0, 8);
    Messaging service =
        Messaging.builder()
            .service("kitchen")
            .brokerUri(brokerUri)
            .codecs(Codecs.discover())
            .build();
    resources.add(service);
    Map<String, Set<Integer>> seen = new ConcurrentHashMap<>();
    List<Channel<Cmd>> channels = new ArrayList<>();
    for (int q = 0; q < QUEUES; q++) {
      Channel<Cmd> channel =
          Channel.command(base + ".commands." + q, Cmd.class).withPartitionKey(Cmd::key);
      channels.add(channel);
      service.serve(
          channel,
          (Cmd c, MessageContext ctx) -> {
            seen.computeIfAbsent(c.key(), k -> ConcurrentHashMap.newKeySet()).add(c.seq());
            return null;
          });
    }
    Outbox writer = Outbox.builder(db.dataSource(), service).createSchema(false).build();

    write(db.dataSource(), writer, channels, 0, 100); // 3,000 rows
    Process first = startRelay(brokerUri, db.name());
    await().atMost(Duration.ofSeconds(60)).until(() -> distinct(seen) >= 300);
    first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    long backlogAtKill = backlog(db.dataSource());
    int deliveredAtKill = distinct(seen);

    Process second = startRelay(brokerUri, db.name());
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              assertThat(backlog(db.dataSource())).as("outbox backlog").isZero();
              assertThat(distinct(seen)).isEqualTo(KEYS * 100);
            });
    write(db.dataSource(), writer, channels, 100, 134); // the next 1,020 sends
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(backlog(db.dataSource())).isZero();
              assertThat(distinct(seen)).isEqualTo(KEYS * 134);
            });

    assertThat(first.isAlive()).isFalse();
    assertThat(second.isAlive()).as("the new relay keeps running").isTrue();
    assertThat(backlogAtKill).as("rows left when the relay was killed").isPositive();
    assertThat(deliveredAtKill).isLessThan(KEYS * 100);
  }

  /**
   * Rows seq {@code from} (inclusive) to {@code to} for every key. All rows of one seq go to one
   * queue, the next seq to the next queue: a key's first send of a round goes out from the relay's
   * thread, every later one is chained on the previous confirm, so that queues the process has not
   * seen yet are first sent to from a confirm.
   */
  private static void write(
      DataSource ds, Outbox outbox, List<Channel<Cmd>> channels, int from, int to)
      throws SQLException {
    for (int seq = from; seq < to; seq++) {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        for (int k = 0; k < KEYS; k++) {
          outbox.send(c, channels.get(seq % QUEUES), new Cmd("k" + k, seq));
        }
        c.commit();
      }
    }
  }

  private Process startRelay(String brokerUri, String schema) throws IOException {
    Path log = Files.createTempFile("parley-relay-", ".log");
    log.toFile().deleteOnExit();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                RelayProcess.class.getName(),
                brokerUri,
                schema)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    relays.add(p);
    return p;
  }

  private static long backlog(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM parley_outbox WHERE sent_at IS NULL")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static int distinct(Map<String, Set<Integer>> seen) {
    return seen.values().stream().mapToInt(Set::size).sum();
  }
}
