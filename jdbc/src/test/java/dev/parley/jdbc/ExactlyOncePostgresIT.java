package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.messaging.Channel;
import dev.parley.testing.kit.ScratchDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Outbox and inbox on the machine's PostgreSQL, in a schema of their own. */
class ExactlyOncePostgresIT extends ExactlyOnceContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.POSTGRESQL;
  }

  @Test
  void aRowIsSentMomentsAfterItsTransactionCommitsEvenWhenAnotherInstanceWroteIt()
      throws Exception {
    Channel<Event> events = Channel.event(prefix + "events", Event.class);
    Inbox inbox = inbox();
    messaging.subscribe(events, "ledger", inbox.handler("ledger", ledger("ledger")));
    // The relay polls only every 30 s: what wakes it sooner is the commit (PostgreSQL's NOTIFY).
    Outbox relay = outbox(outboxBuilder().pollInterval(Duration.ofSeconds(30))).start();
    await().atMost(Duration.ofSeconds(10)).until(() -> relay.metrics().leaseHeld());
    Outbox otherInstance = outbox(outboxBuilder()); // writes only, as another process would

    inTransaction(c -> otherInstance.publish(c, events, new Event("k", 1)));

    await().atMost(Duration.ofSeconds(10)).until(() -> ledgerRows() == 1);
    assertThat(relay.metrics().sent()).isEqualTo(1);
  }
}
