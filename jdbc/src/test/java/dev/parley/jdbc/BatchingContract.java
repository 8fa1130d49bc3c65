package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.BadInputException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageHandler;
import dev.parley.testing.kit.FakeClock;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The batching inbox (group commit) and RELIABILITY.md M8, bounded dedup retention. */
abstract class BatchingContract extends ExactlyOnceFixture {

  @Test
  void concurrentDeliveriesCommitTogetherAndAPoisonMessageFailsAlone() {
    Channel<Event> events = Channel.event(prefix + "batched", Event.class);
    Inbox inbox = Inbox.builder(db.dataSource()).batchSize(32).build();
    TransactionalHandler<Event> write = ledger("ledger");
    messaging.subscribe(
        events,
        "ledger",
        inbox.batchingHandler(
            "ledger",
            (event, ctx, c) -> {
              if (event.seq() == 13) {
                throw new BadInputException("POISON", "seq 13 is poison");
              }
              write.handle(event, ctx, c);
            }),
        messaging.defaultSubscriptionOptions().withConcurrency(16).withPrefetch(32));
    List<Message> deadLetters = new CopyOnWriteArrayList<>();
    messaging.subscribeDeadLetters(events, "ledger", deadLetters::add);

    int count = 400;
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      Message m = messaging.encode(events, new Event("k" + i, i));
      sends.add(
          messaging.transport().send(new Destination.Event(events.name()), m, SendOptions.NONE));
      if (i % 10 == 0) { // every 10th twice, as a relay resending after a crash would
        sends.add(
            messaging.transport().send(new Destination.Event(events.name()), m, SendOptions.NONE));
      }
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();

    await().atMost(Duration.ofSeconds(60)).until(() -> ledgerRows() == count - 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> deadLetters.size() == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> inbox.duplicates() == count / 10);
    assertThat(db.count("SELECT COUNT(DISTINCT message_id) FROM ledger")).isEqualTo(count - 1);
    assertThat(db.count("SELECT COUNT(*) FROM ledger WHERE seq = 13")).isZero();
    assertThat(deadLetters.get(0).header(Headers.ERROR_CODE)).contains("POISON");
    assertThat(inbox.handled()).isEqualTo(count - 1);
  }

  @Test
  void deliveriesArrivingWhileABatchCommitsShareTheNextTransaction() throws Exception {
    Channel<Event> events = Channel.event(prefix + "grouped", Event.class);
    Inbox inbox = Inbox.builder(db.dataSource()).batchSize(64).build();
    TransactionalHandler<Event> write = ledger("ledger");
    AtomicInteger arrived = new AtomicInteger();
    CountDownLatch othersQueued = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    MessageHandler<Event> batching =
        inbox.batchingHandler(
            "ledger",
            (event, ctx, c) -> {
              if (first.compareAndSet(true, false)) {
                // The first transaction stays open until 16 more deliveries are waiting.
                assertThat(othersQueued.await(30, TimeUnit.SECONDS)).isTrue();
              }
              write.handle(event, ctx, c);
            });
    messaging.subscribe(
        events,
        "ledger",
        (event, ctx) -> {
          if (arrived.incrementAndGet() == 17) {
            othersQueued.countDown();
          }
          batching.handle(event, ctx);
        },
        messaging.defaultSubscriptionOptions().withConcurrency(17).withPrefetch(32));

    for (int i = 1; i <= 17; i++) {
      messaging.publish(events, new Event("k" + i, i)).join();
    }

    await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows() == 17);
    // The held transaction, then one for those that queued behind it (a third if the last one
    // queued only just as that one began): far fewer than 17.
    await().atMost(Duration.ofSeconds(10)).until(() -> inbox.handled() == 17);
    assertThat(inbox.batches()).isBetween(2L, 3L);
  }

  /**
   * One id twice in one batch (a redelivery beside its original): the first is handled, the second
   * counted a duplicate, in the same transaction; both calls return normally.
   */
  @Test
  void anIdTwiceInOneBatchIsHandledOnce() throws Exception {
    Inbox inbox = Inbox.builder(db.dataSource()).batchSize(64).build();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> applied = new CopyOnWriteArrayList<>();
    MessageHandler<Event> handler =
        inbox.batchingHandler(
            "twice",
            (event, ctx, c) -> {
              String id = ctx.message().id();
              if (id.equals("hold")) {
                holding.countDown();
                assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
              }
              applied.add(id);
            });
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Thread> waiting = new CopyOnWriteArrayList<>();
      List<CompletableFuture<Void>> calls = new ArrayList<>();
      calls.add(CompletableFuture.runAsync(() -> call(handler, "hold"), threads));
      assertThat(holding.await(30, TimeUnit.SECONDS)).as("first transaction open").isTrue();
      for (String id : List.of("same", "same", "other")) {
        calls.add(
            CompletableFuture.runAsync(
                () -> {
                  waiting.add(Thread.currentThread());
                  call(handler, id);
                },
                threads));
      }
      // All three queued behind the held transaction, their threads waiting for it.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  waiting.size() == 3
                      && waiting.stream()
                          .allMatch(t -> t.getState() == Thread.State.TIMED_WAITING));
      release.countDown();
      CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } finally {
      threads.shutdownNow();
    }
    assertThat(applied).containsExactlyInAnyOrder("hold", "same", "other");
    assertThat(inbox.batches()).isEqualTo(2); // the held one, then the three together
    assertThat(inbox.handled()).isEqualTo(3);
    assertThat(inbox.duplicates()).isEqualTo(1);
  }

  /**
   * M8: a million ids at a steady rate on a fake clock, purged every 6 simulated minutes with a
   * retention of one hour. The table never holds more than rate × R × 1.1 rows, and a purge never
   * deletes an id younger than R.
   */
  /** M8's concurrent callers: each waits for its batch's commit, so they bound a batch's size. */
  private static final int CALLERS = Integer.getInteger("parley.m8.callers", 128);

  @Test
  void dedupRetentionStaysBoundedOverAMillionIds() throws Exception {
    FakeClock clock = FakeClock.startingNow();
    Duration retention = Duration.ofHours(1);
    Inbox inbox =
        Inbox.builder(fastCommits()).clock(clock).retention(retention).batchSize(1000).build();
    MessageHandler<Event> handler = inbox.batchingHandler("m8", (event, ctx, c) -> {});
    int ids = Integer.getInteger("parley.m8.ids", 1_000_000);
    int perHour = 100_000;
    int perPurge = perHour / 10; // a purge every 6 minutes of fake time
    Duration tick = Duration.ofHours(1).dividedBy(perHour);
    long maxRows = 0;
    long purged = 0;
    ExecutorService threads = Executors.newFixedThreadPool(CALLERS);
    try {
      for (int done = 0; done < ids; done += perPurge) {
        int from = done;
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int t = 0; t < CALLERS; t++) {
          int thread = t;
          calls.add(
              CompletableFuture.runAsync(
                  () -> {
                    for (int i = from + thread; i < from + perPurge && i < ids; i += CALLERS) {
                      call(handler, "id-" + i);
                    }
                  },
                  threads));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        clock.advance(tick.multipliedBy(perPurge));

        Instant horizon = clock.instant().minus(retention);
        long young = youngerThan(horizon);
        purged += inbox.purge();
        assertThat(youngerThan(horizon)).as("ids younger than R after a purge").isEqualTo(young);
        long rows = db.count("SELECT COUNT(*) FROM parley_inbox");
        assertThat(rows).as("ids older than R after a purge").isEqualTo(young);
        maxRows = Math.max(maxRows, rows);
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(inbox.handled()).isEqualTo(ids);
    assertThat(maxRows).isLessThanOrEqualTo((long) (perHour * 1.1));
    assertThat(purged).isGreaterThanOrEqualTo(ids - (long) (perHour * 1.1));
  }

  private static void call(MessageHandler<Event> handler, String id) {
    Message m = Message.builder().id(id).payload(new byte[0]).build();
    try {
      handler.handle(new Event("k", 1), context(m));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private long youngerThan(Instant horizon) {
    AtomicLong n = new AtomicLong();
    inTransaction(
        c -> {
          try (var ps =
              c.prepareStatement("SELECT COUNT(*) FROM parley_inbox WHERE received_at >= ?")) {
            ps.setObject(1, java.time.OffsetDateTime.ofInstant(horizon, java.time.ZoneOffset.UTC));
            try (var rs = ps.executeQuery()) {
              rs.next();
              n.set(rs.getLong(1));
            }
          }
        });
    return n.get();
  }

  /** The database for M8, which tests retention, not durability: commits need not wait. */
  javax.sql.DataSource fastCommits() {
    return db.dataSource();
  }
}
