package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.messaging.Channel;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.PostgresNode;
import dev.parley.testing.kit.ScratchDatabase;
import dev.parley.testing.kit.Toxic;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * M3, M4 and M7 on PostgreSQL, plus M4's database crash: the consumer reaches PostgreSQL through a
 * fault proxy, and the database goes away in the middle of the inbox transaction's commit — once
 * before the commit reaches it (the transaction is lost) and once after (it commits, but the answer
 * never comes back). From the consumer's side both look like a database stopped mid-commit.
 */
class CrashPointsPostgresIT extends CrashPointsContract {

  @Override
  ScratchDatabase database() {
    return ScratchDatabase.POSTGRESQL;
  }

  /** The scratch schema, reached through {@code proxy}, with a 2 s socket timeout. */
  private PGSimpleDataSource viaProxy(FaultProxy proxy) {
    PGSimpleDataSource ds = ScratchDatabase.postgres(db.name(), proxy.port());
    ds.setSocketTimeout(2);
    return ds;
  }

  @Test
  void theDatabaseGoingAwayBeforeTheCommitLosesTheTransactionAndTheRetryAppliesIt() {
    FaultProxy database = FaultProxy.to("127.0.0.1", 5432);
    closeables.add(database);
    Inbox inbox = Inbox.builder(viaProxy(database)).build();
    Channel<Event> events = Channel.event(prefix + "dbdown", Event.class);
    AtomicBoolean stopped = new AtomicBoolean();
    List<Throwable> commitFailures = new CopyOnWriteArrayList<>();
    TransactionalHandler<Event> write = ledger("ledger");
    var handler =
        inbox.handler(
            "ledger",
            (Event event, dev.parley.messaging.MessageContext ctx, java.sql.Connection c) -> {
              write.handle(event, ctx, c);
              if (stopped.compareAndSet(false, true)) {
                database.disable(); // the database is gone before the commit reaches it
              }
            });
    messaging.subscribe(
        events,
        "ledger",
        (event, ctx) -> {
          try {
            handler.handle(event, ctx);
          } catch (Exception e) {
            commitFailures.add(e);
            database.enable(); // the database is back for the redelivery
            throw e;
          }
        });

    messaging.publish(events, new Event("k", 1)).join();

    await().atMost(Duration.ofSeconds(30)).until(() -> inbox.handled() == 1);
    assertThat(commitFailures).as("the first commit failed").hasSize(1);
    assertThat(database.resets() + database.accepted()).isPositive();
    assertThat(ledgerRows()).isEqualTo(1);
    assertThat(db.count("SELECT COUNT(*) FROM parley_inbox")).isEqualTo(1);
    assertThat(inbox.duplicates()).isZero();
  }

  @Test
  void theDatabaseGoingAwayAfterTheCommitKeepsItAndTheRedeliveryIsSkipped() {
    FaultProxy database = FaultProxy.to("127.0.0.1", 5432);
    closeables.add(database);
    Inbox inbox = Inbox.builder(viaProxy(database)).build();
    Channel<Event> events = Channel.event(prefix + "dbgone", Event.class);
    Toxic answersLost = new Toxic.Timeout(Toxic.Direction.DOWNSTREAM);
    AtomicBoolean stopped = new AtomicBoolean();
    List<Throwable> commitFailures = new CopyOnWriteArrayList<>();
    TransactionalHandler<Event> write = ledger("ledger");
    var handler =
        inbox.handler(
            "ledger",
            (Event event, dev.parley.messaging.MessageContext ctx, java.sql.Connection c) -> {
              write.handle(event, ctx, c);
              if (stopped.compareAndSet(false, true)) {
                database.add(answersLost); // the commit gets there; its answer never returns
              }
            });
    messaging.subscribe(
        events,
        "ledger",
        (event, ctx) -> {
          try {
            handler.handle(event, ctx);
          } catch (Exception e) {
            commitFailures.add(e);
            database.remove(answersLost);
            throw e;
          }
        });

    messaging.publish(events, new Event("k", 1)).join();

    // The consumer saw its commit fail, yet the effect is there once, and the redelivery was
    // recognised as a duplicate instead of applied again.
    await().atMost(Duration.ofSeconds(30)).until(() -> inbox.duplicates() == 1);
    assertThat(commitFailures).as("the commit's answer was lost").hasSize(1);
    assertThat(inbox.handled()).isZero();
    assertThat(ledgerRows()).isEqualTo(1);
    assertThat(db.count("SELECT COUNT(*) FROM parley_inbox")).isEqualTo(1);
  }

  // ---- a real database crash: a private PostgreSQL server, SIGKILLed mid-commit -----------------

  /** The ledger and Parley's tables on a private server that the test can kill. */
  private PostgresNode privateServer() {
    PostgresNode node = PostgresNode.startTemporary();
    closeables.add(node);
    Schema.create(node.dataSource(), Schema.DEFAULT_PREFIX);
    ScratchDatabase.execute(
        node.dataSource(),
        "CREATE TABLE ledger (consumer_group VARCHAR(64), message_id VARCHAR(64), k VARCHAR(64),"
            + " seq INT, applied_at BIGINT)");
    return node;
  }

  private static long count(PostgresNode node, String sql) {
    try (java.sql.Connection c = node.dataSource().getConnection();
        var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theDatabaseKilledBeforeTheCommitLosesTheTransactionAndTheRedeliveryAppliesIt() {
    PostgresNode node = privateServer();
    Inbox inbox = Inbox.builder(node.dataSource()).build();
    Channel<Event> events = Channel.event(prefix + "pgkill1", Event.class);
    AtomicBoolean killed = new AtomicBoolean();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    TransactionalHandler<Event> write = ledger("ledger");
    var handler =
        inbox.handler(
            "ledger",
            (Event event, dev.parley.messaging.MessageContext ctx, java.sql.Connection c) -> {
              write.handle(event, ctx, c);
              if (killed.compareAndSet(false, true)) {
                node.kill(); // SIGKILL, the effect written but not committed
              }
            });
    messaging.subscribe(
        events,
        "ledger",
        (event, ctx) -> {
          try {
            handler.handle(event, ctx);
          } catch (Exception e) {
            failures.add(e);
            node.start(); // crash recovery; the redelivery finds the server back
            throw e;
          }
        });

    messaging.publish(events, new Event("k", 1)).join();

    await().atMost(Duration.ofSeconds(60)).until(() -> inbox.handled() == 1);
    assertThat(killed).isTrue();
    assertThat(failures).as("the commit failed with the server").hasSize(1);
    assertThat(count(node, "SELECT COUNT(*) FROM ledger")).isEqualTo(1);
    assertThat(count(node, "SELECT COUNT(*) FROM parley_inbox")).isEqualTo(1);
    assertThat(inbox.duplicates()).isZero();
  }

  @Test
  void theDatabaseKilledWhileTheCommitsAnswerIsOnItsWayKeepsTheCommitAndTheRedeliveryIsSkipped() {
    PostgresNode node = privateServer();
    FaultProxy proxy = FaultProxy.to("127.0.0.1", node.port());
    closeables.add(proxy);
    PGSimpleDataSource viaProxy = ScratchDatabase.postgres(null, proxy.port());
    viaProxy.setDatabaseName("postgres");
    viaProxy.setSocketTimeout(10);
    Inbox inbox = Inbox.builder(viaProxy).build();
    Channel<Event> events = Channel.event(prefix + "pgkill2", Event.class);
    Toxic answersHeld = new Toxic.Timeout(Toxic.Direction.DOWNSTREAM);
    AtomicBoolean armed = new AtomicBoolean();
    AtomicBoolean committedBeforeTheKill = new AtomicBoolean();
    java.util.concurrent.CompletableFuture<Void> killer =
        new java.util.concurrent.CompletableFuture<>();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    TransactionalHandler<Event> write = ledger("ledger");
    var handler =
        inbox.handler(
            "ledger",
            (Event event, dev.parley.messaging.MessageContext ctx, java.sql.Connection c) -> {
              write.handle(event, ctx, c);
              if (armed.compareAndSet(false, true)) {
                proxy.add(answersHeld); // the COMMIT goes through; its answer is held back
                String id = ctx.message().id();
                java.util.concurrent.CompletableFuture.runAsync(
                    () -> {
                      // Kill the server once the commit is durable, before the client hears of it.
                      await()
                          .atMost(Duration.ofSeconds(10))
                          .until(
                              () ->
                                  count(
                                          node,
                                          "SELECT COUNT(*) FROM parley_inbox WHERE message_id = '"
                                              + id
                                              + "'")
                                      == 1);
                      committedBeforeTheKill.set(true);
                      node.kill();
                      killer.complete(null);
                    });
              }
            });
    messaging.subscribe(
        events,
        "ledger",
        (event, ctx) -> {
          try {
            handler.handle(event, ctx);
          } catch (Exception e) {
            failures.add(e);
            killer.get(30, java.util.concurrent.TimeUnit.SECONDS);
            proxy.remove(answersHeld);
            node.start();
            throw e;
          }
        });

    messaging.publish(events, new Event("k", 1)).join();

    await().atMost(Duration.ofSeconds(60)).until(() -> inbox.duplicates() == 1);
    assertThat(committedBeforeTheKill).as("the server died after the commit was durable").isTrue();
    assertThat(failures).as("the client never heard of its commit").hasSize(1);
    assertThat(inbox.handled()).isZero();
    assertThat(count(node, "SELECT COUNT(*) FROM ledger")).isEqualTo(1);
    assertThat(count(node, "SELECT COUNT(*) FROM parley_inbox")).isEqualTo(1);
  }
}
