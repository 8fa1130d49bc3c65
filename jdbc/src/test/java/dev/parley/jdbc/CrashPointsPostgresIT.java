package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.messaging.Channel;
import dev.parley.testing.kit.FaultProxy;
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
}
