package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.jdbc.OutboxRelay.CrashPoint;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageHandler;
import dev.parley.testing.kit.FaultProxy;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RELIABILITY.md M3 (the relay dies at each point of a round), M4 (a consumer dies at each point of
 * its transaction) and M7 (concurrent writers, one holding a lower id open, two relays). A process
 * that dies takes its connections with it: here each victim reaches the broker through a fault
 * proxy of its own, cut at the moment it dies, and does nothing more afterwards.
 */
abstract class CrashPointsContract extends ExactlyOnceFixture {

  /** How the relay or a consumer dies in these tests. */
  static final class Crash extends Error {
    Crash(String where) {
      super("crashed " + where);
    }
  }

  @BeforeEach
  void letCrashesEndTheirThreads() {
    // A crash is an Error ending the victim's thread; it is not the test's failure.
    Awaitility.doNotCatchUncaughtExceptionsByDefault();
  }

  @AfterEach
  void restoreAwaitility() {
    Awaitility.reset();
  }

  /** Writes {@code count} events over {@code keys} keys, every 5th rolled back; returns commits. */
  int write(Outbox outbox, Channel<Event> events, int count, int keys) throws Exception {
    int committed = 0;
    int[] next = new int[keys];
    for (int i = 0; i < count; i++) {
      int k = i % keys;
      try (Connection c = db.dataSource().getConnection()) {
        c.setAutoCommit(false);
        outbox.publish(c, events, new Event("k" + k, next[k] + 1));
        if (i % 5 == 4) {
          c.rollback();
        } else {
          c.commit();
          next[k]++;
          committed++;
        }
      }
    }
    return committed;
  }

  void assertExactlyOnceInOrder(int committed, int keys) {
    assertThat(ledgerRows())
        .as("ledger rows (a duplicate would be a second row)")
        .isEqualTo(committed);
    assertThat(db.count("SELECT COUNT(DISTINCT message_id) FROM ledger")).isEqualTo(committed);
    for (int k = 0; k < keys; k++) {
      List<Integer> seqs = seqsOf("k" + k);
      for (int i = 0; i < seqs.size(); i++) {
        assertThat(seqs.get(i)).as("seq %d of k%d", i + 1, k).isEqualTo(i + 1);
      }
    }
  }

  // ---- M3 -------------------------------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(CrashPoint.class)
  void aRelayDyingAtAnyPointOfItsRoundLosesNothingAndAppliesNothingTwice(CrashPoint point)
      throws Exception {
    Channel<Event> events = Channel.event(prefix + "m3", Event.class).withPartitionKey(Event::key);
    Inbox inbox = inbox();
    messaging.subscribe(events, "ledger", inbox.handler("ledger", ledger("ledger")));
    // Rows are committed before any relay runs, so the first round has them all.
    Outbox writer = outbox(outboxBuilder());
    int committed = write(writer, events, 40, 4);

    FaultProxy proxy = brokerProxy();
    AtomicInteger crashes = new AtomicInteger();
    Outbox dying =
        outbox(
            Outbox.builder(db.dataSource(), messagingVia(proxy))
                .instance("dying")
                .lease(Duration.ofSeconds(2))
                .crashHook(
                    p -> {
                      if (p == point && crashes.getAndIncrement() == 0) {
                        proxy.disable(); // its connection dies with it
                        throw new Crash("at " + p);
                      }
                    }));
    dying.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> crashes.get() == 1);

    Outbox survivor = outbox(outboxBuilder().instance("survivor").lease(Duration.ofMillis(500)));
    survivor.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows() >= committed);
    await().atMost(Duration.ofSeconds(30)).until(() -> survivor.metrics().backlog() == 0);

    assertExactlyOnceInOrder(committed, 4);
    assertThat(crashes.get()).as("the relay died once, at %s", point).isEqualTo(1);
    switch (point) {
      case AFTER_SELECT -> {
        // Nothing went out before it died: the survivor sent everything, once.
        assertThat(survivor.metrics().sent()).isEqualTo(committed);
        assertThat(inbox.duplicates()).isZero();
      }
      case AFTER_PUBLISH -> assertThat(survivor.metrics().sent()).isEqualTo(committed);
      case AFTER_CONFIRM -> {
        // What reached the broker was resent: the inbox took the second copies.
        assertThat(survivor.metrics().sent()).isEqualTo(committed);
        await().atMost(Duration.ofSeconds(30)).until(() -> inbox.duplicates() >= 1);
      }
      case AFTER_MARK -> {
        // What it marked stays sent; the survivor sends the rest (if its round ran out of lease).
        assertThat(dying.metrics().sent()).isPositive();
        assertThat(dying.metrics().sent() + survivor.metrics().sent()).isEqualTo(committed);
        assertThat(inbox.duplicates()).isZero();
      }
    }
    assertThat(ledgerRows()).isEqualTo(committed);
  }

  // ---- M4 -------------------------------------------------------------------------------------

  enum ConsumerCrash {
    BEFORE_TRANSACTION,
    AFTER_EFFECT_BEFORE_COMMIT,
    AFTER_COMMIT_BEFORE_ACK
  }

  @ParameterizedTest
  @EnumSource(ConsumerCrash.class)
  void aConsumerDyingAtAnyPointOfItsTransactionAppliesEachMessageOnce(ConsumerCrash point)
      throws Exception {
    Channel<Event> events = Channel.event(prefix + "m4", Event.class);
    Inbox inbox = inbox();
    FaultProxy proxy = brokerProxy();
    AtomicBoolean dead = new AtomicBoolean();
    AtomicInteger crashes = new AtomicInteger();
    TransactionalHandler<Event> write = ledger("ledger");
    MessageHandler<Event> viaInbox =
        inbox.handler(
            "ledger",
            (event, ctx, c) -> {
              write.handle(event, ctx, c);
              if (point == ConsumerCrash.AFTER_EFFECT_BEFORE_COMMIT) {
                die(proxy, dead, crashes, point);
              }
            });
    messagingVia(proxy)
        .subscribe(
            events,
            "ledger",
            (event, ctx) -> {
              if (dead.get()) {
                throw new Crash("already"); // a dead process does nothing more
              }
              if (point == ConsumerCrash.BEFORE_TRANSACTION) {
                die(proxy, dead, crashes, point);
              }
              viaInbox.handle(event, ctx);
              if (point == ConsumerCrash.AFTER_COMMIT_BEFORE_ACK) {
                die(proxy, dead, crashes, point);
              }
            });
    Outbox outbox = outbox(outboxBuilder()).start();
    int committed = write(outbox, events, 10, 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> crashes.get() == 1);

    // A second instance takes over the group's messages, including the dead one's.
    messaging.subscribe(events, "ledger", viaInbox);
    await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows() >= committed);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> inbox.handled() + inbox.duplicates() >= committed);

    assertThat(ledgerRows()).isEqualTo(committed);
    assertThat(db.count("SELECT COUNT(DISTINCT message_id) FROM ledger")).isEqualTo(committed);
    // No inbox record without its effect, nor the reverse.
    assertThat(db.count("SELECT COUNT(*) FROM parley_inbox")).isEqualTo(committed);
    if (point == ConsumerCrash.AFTER_COMMIT_BEFORE_ACK) {
      // The committed message came again (its ack died with the consumer) and was skipped.
      await().atMost(Duration.ofSeconds(30)).until(() -> inbox.duplicates() >= 1);
    }
  }

  private static void die(
      FaultProxy proxy, AtomicBoolean dead, AtomicInteger crashes, ConsumerCrash point) {
    if (dead.compareAndSet(false, true)) {
      crashes.incrementAndGet();
      proxy.disable();
      throw new Crash(point.name());
    }
  }

  // ---- M7 -------------------------------------------------------------------------------------

  @Test
  void concurrentWritersWithALowerIdHeldOpenSkipNothingAndKeepPerKeyOrder() throws Exception {
    Channel<Event> events = Channel.event(prefix + "m7", Event.class).withPartitionKey(Event::key);
    Inbox inbox = inbox();
    messaging.subscribe(events, "ledger", inbox.handler("ledger", ledger("ledger")));
    Outbox one = outbox(outboxBuilder().instance("relay-1").lease(Duration.ofSeconds(2))).start();
    Outbox two = outbox(outboxBuilder().instance("relay-2").lease(Duration.ofSeconds(2))).start();
    CountDownLatch opened = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);

    // Writer 1 writes k seq 1 first (the lowest id of k) and holds its transaction open.
    CompletableFuture<Void> w1 =
        CompletableFuture.runAsync(
            () ->
                inTransaction(
                    c -> {
                      one.publish(c, events, new Event("k", 1));
                      opened.countDown();
                      try {
                        release.await(60, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }));
    assertThat(opened.await(30, TimeUnit.SECONDS)).isTrue();
    // Writer 2 follows on k (it must wait its turn); writers 3 and 4 write keys of their own.
    CompletableFuture<Void> w2 =
        CompletableFuture.runAsync(
            () -> {
              for (int seq = 2; seq <= 5; seq++) {
                int s = seq;
                inTransaction(c -> two.publish(c, events, new Event("k", s)));
              }
            });
    CompletableFuture<Void> w3 = CompletableFuture.runAsync(() -> writeOwn("c", 20, one, events));
    CompletableFuture<Void> w4 = CompletableFuture.runAsync(() -> writeOwn("d", 20, two, events));
    w3.get(30, TimeUnit.SECONDS);
    w4.get(30, TimeUnit.SECONDS);

    // Rows with higher ids went out while the lower one was open...
    await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows() == 40);
    assertThat(seqsOf("k")).isEmpty();
    assertThat(w2).isNotDone();
    // ...and once it commits, nothing is skipped and k keeps its order.
    release.countDown();
    w1.get(30, TimeUnit.SECONDS);
    w2.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows() == 45);
    assertThat(seqsOf("k")).containsExactly(1, 2, 3, 4, 5);
    assertThat(seqsOf("c")).hasSize(20).isSorted();
    assertThat(seqsOf("d")).hasSize(20).isSorted();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> one.metrics().backlog() == 0 && two.metrics().backlog() == 0);
    assertThat(one.metrics().sent() + two.metrics().sent()).isEqualTo(45);
    assertThat(inbox.duplicates()).isZero();
  }

  private void writeOwn(String key, int count, Outbox outbox, Channel<Event> events) {
    for (int seq = 1; seq <= count; seq++) {
      int s = seq;
      inTransaction(c -> outbox.publish(c, events, new Event(key, s)));
    }
  }
}
