package dev.parley.jdbc;

import dev.parley.internal.Payloads;
import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends committed outbox rows. One thread; one round at a time: renew the lease, read up to a batch
 * of unsent rows in sequence order, send them (rows of one partition key one after another, each
 * only after the previous one's confirm; rows of different keys in parallel), mark the confirmed
 * ones sent in one transaction. A key whose send failed stops for the round; its later rows wait,
 * so they never overtake it.
 */
final class OutboxRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
  private static final Duration PURGE_EVERY = Duration.ofMinutes(1);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

  /**
   * Failed sends, logged with the first one's row and cause: a row the broker or the publish chain
   * refuses every time (bad input, a permission) is sent again every round and holds its key, and
   * would otherwise show only in {@link OutboxMetrics#sendFailures()}. Bounded, per relay: a broker
   * outage fails every round.
   */
  private final dev.parley.transport.spi.LogLimiter sendFailures =
      dev.parley.transport.spi.LogLimiter.of(3, 60);

  private final DataSource dataSource;
  private final Sender sender;
  private final String prefix;
  private final Clock clock;
  private final int batchSize;
  private final Duration pollInterval;
  private final Duration retention;
  private final Duration lease;
  private final String relayName;
  private final String instance;
  private final CrashHook crashHook;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean wakeUp;
  private volatile boolean closed;
  private volatile boolean leaseHeld;
  private final boolean listenForCommits;
  private final SqlDialect.Known dialect;
  private Thread thread;
  private CommitListener listener;
  // Sends start only before this instant: half a lease after the last renewal, so that a relay
  // whose round runs long stops before another instance can take the lease over and send the same
  // keys (two senders of one key could interleave its rows).
  private volatile Instant sendUntil = Instant.MIN;
  private Instant nextPurge = Instant.MIN;

  /** Where the relay's sends go: {@link dev.parley.messaging.Messaging#forward}. */
  @FunctionalInterface
  interface Sender {
    CompletableFuture<Void> send(Destination destination, Message message);
  }

  OutboxRelay(Outbox.Builder b, Sender sender, SqlDialect.Known dialect) {
    this.dialect = dialect;
    this.dataSource = b.dataSource;
    this.sender = sender;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.batchSize = b.batchSize;
    this.pollInterval = b.pollInterval;
    this.retention = b.retention;
    this.lease = b.lease;
    this.relayName = b.relayName;
    this.instance = b.instance;
    this.crashHook = b.crashHook;
    this.listenForCommits = b.listenForCommits;
  }

  private boolean isPostgres() {
    try (Connection c = dataSource.getConnection()) {
      return dialect.of(c) == SqlDialect.POSTGRESQL;
    } catch (SQLException e) {
      log.warn("outbox relay {}: cannot tell the database ({}); polling", relayName, e.toString());
      return false;
    }
  }

  /** The points of a round where RELIABILITY.md M3 makes a relay die. */
  enum CrashPoint {
    /** Rows read, nothing sent. */
    AFTER_SELECT,
    /** Sends under way, no confirm awaited. */
    AFTER_PUBLISH,
    /** Confirms in, rows not yet marked sent. */
    AFTER_CONFIRM,
    /** Rows marked sent. */
    AFTER_MARK
  }

  /**
   * Called at each {@link CrashPoint} of a round that has rows; a test's hook throws an {@link
   * Error} there, which ends the relay thread as a crash would. Production has none.
   */
  @FunctionalInterface
  interface CrashHook {
    CrashHook NONE = point -> {};

    void at(CrashPoint point);
  }

  /** Set when the crash hook threw: the relay thread then ends, as a killed process would. */
  private volatile boolean crashed;

  private void crashAt(CrashPoint point) {
    try {
      crashHook.at(point);
    } catch (RuntimeException | Error e) {
      crashed = true;
      throw e;
    }
  }

  synchronized void start() {
    if (thread != null || closed) {
      return;
    }
    thread = new Thread(this::run, "parley-outbox-relay-" + relayName);
    thread.setDaemon(true);
    thread.start();
    if (listenForCommits && isPostgres()) {
      listener =
          new CommitListener(dataSource, CommitListener.channel(prefix), relayName, this::wakeUp)
              .start();
    }
  }

  void wakeUp() {
    wakeUp = true;
    if (lock.tryLock()) {
      try {
        work.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  private void run() {
    Duration backoff = Duration.ZERO;
    while (!closed) {
      int handled = 0;
      boolean stuck = false;
      try {
        if (holdLease()) {
          long before = sent.get();
          handled = round();
          // Rows were there but none went out (the broker is away): back off, up to a second,
          // rather than read and fail the same batch in a tight loop.
          stuck = handled > 0 && sent.get() == before;
          purgeIfDue();
        }
      } catch (SQLException | RuntimeException e) {
        log.warn("outbox relay {}: round failed: {}", relayName, e.toString());
        stuck = true;
      } catch (Error e) {
        if (crashed) {
          throw e; // a test's crash point (RELIABILITY.md M3): the relay dies as a process would
        }
        // Anything else (a failed allocation, a stack overflow, a class missing at run time) must
        // not end the relay for good while the service lives on: the round's rows stay unsent and
        // are read again after the back-off.
        log.error("outbox relay {}: round failed: {}", relayName, e.toString());
        stuck = true;
      }
      if (stuck) {
        backoff =
            backoff.isZero()
                ? pollInterval
                : backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                    ? MAX_BACKOFF
                    : backoff.multipliedBy(2);
        idle(backoff, false);
      } else {
        backoff = Duration.ZERO;
        if (handled < batchSize) {
          idle(pollInterval, true);
        }
      }
    }
  }

  private void idle(Duration wait, boolean wakeable) {
    lock.lock();
    try {
      if ((!wakeable || !wakeUp) && !closed) {
        work.await(wait.toNanos(), TimeUnit.NANOSECONDS);
      }
      wakeUp = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    } finally {
      lock.unlock();
    }
  }

  // ---- lease
  // -------------------------------------------------------------------------------------

  private boolean holdLease() throws SQLException {
    Instant now = clock.instant();
    sendUntil = now.plus(lease.dividedBy(2));
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE "
                  + prefix
                  + "outbox_lease SET owner = ?, expires_at = ? WHERE name = ? AND (owner = ? OR"
                  + " expires_at < ?)")) {
        ps.setString(1, instance);
        ps.setObject(2, utc(now.plus(lease)));
        ps.setString(3, relayName);
        ps.setString(4, instance);
        ps.setObject(5, utc(now));
        if (ps.executeUpdate() == 1) {
          return leaseHeld(true);
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO "
                  + prefix
                  + "outbox_lease (name, owner, expires_at) VALUES (?, ?, ?)")) {
        ps.setString(1, relayName);
        ps.setString(2, instance);
        ps.setObject(3, utc(now.plus(lease)));
        ps.executeUpdate();
        return leaseHeld(true);
      } catch (SQLException e) {
        if (isDuplicate(e)) {
          return leaseHeld(false); // another instance holds it
        }
        throw e;
      }
    }
  }

  private boolean leaseHeld(boolean held) {
    if (held != leaseHeld) {
      log.info("outbox relay {}: {} the lease", relayName, held ? "took" : "does not hold");
    }
    leaseHeld = held;
    return held;
  }

  static boolean isDuplicate(SQLException e) {
    return "23505".equals(e.getSQLState())
        || e instanceof java.sql.SQLIntegrityConstraintViolationException;
  }

  // ---- one round
  // -----------------------------------------------------------------------------------

  private record Row(long seq, String key, Destination destination, Message message) {}

  private int round() throws SQLException {
    List<Row> rows = read();
    if (rows.isEmpty()) {
      return 0;
    }
    crashAt(CrashPoint.AFTER_SELECT);
    // Chain the sends of each key; different keys (and rows without a key) go in parallel.
    Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
    List<CompletableFuture<Long>> results = new ArrayList<>(rows.size());
    for (Row row : rows) {
      CompletableFuture<Long> result;
      if (row.key() == null) {
        result = send(row);
      } else {
        CompletableFuture<Void> previous =
            lastOfKey.getOrDefault(row.key(), CompletableFuture.completedFuture(null));
        result = previous.thenCompose(v -> send(row));
        lastOfKey.put(row.key(), result.thenAccept(seq -> {}));
      }
      results.add(result);
    }
    crashAt(CrashPoint.AFTER_PUBLISH);
    // Wait for the confirms at most a lease: a send that never completes (a broker that stopped
    // answering, a transport bug) leaves its row for the next round instead of stopping the relay.
    long waitUntil = System.nanoTime() + lease.toNanos();
    List<Long> done = new ArrayList<>(rows.size());
    int unconfirmed = 0;
    int refused = 0;
    Row firstRefused = null;
    Throwable firstCause = null;
    for (int i = 0; i < results.size(); i++) {
      try {
        done.add(
            results.get(i).get(Math.max(0, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failures.incrementAndGet();
        break;
      } catch (ExecutionException | TimeoutException | RuntimeException e) {
        if (e instanceof TimeoutException) {
          unconfirmed++;
        } else if (!(e.getCause() instanceof OutboxException)) { // not this relay's own lease
          refused++;
          if (firstRefused == null) {
            firstRefused = rows.get(i);
            firstCause = e instanceof ExecutionException ? e.getCause() : e;
          }
        }
        failures.incrementAndGet();
      }
    }
    if (firstRefused != null) {
      sendFailures.warn(
          log,
          "outbox relay {}: {} send(s) failed, their rows retried next round (a key's later rows"
              + " wait behind its first); the first: row {} (message {}, key {}) to {}: {}",
          relayName,
          refused,
          firstRefused.seq(),
          firstRefused.message().id(),
          firstRefused.key(),
          firstRefused.destination(),
          dev.parley.transport.spi.Redaction.excerpt(
              firstCause instanceof dev.parley.error.ParleyException p
                  ? p.errorCode() + " " + p.getMessage()
                  : String.valueOf(firstCause),
              500));
    }
    if (unconfirmed > 0) {
      log.warn(
          "outbox relay {}: {} send(s) not confirmed within {}; their rows are retried",
          relayName,
          unconfirmed,
          lease);
    }
    crashAt(CrashPoint.AFTER_CONFIRM);
    markSent(done);
    sent.addAndGet(done.size());
    crashAt(CrashPoint.AFTER_MARK);
    return rows.size();
  }

  private CompletableFuture<Long> send(Row row) {
    if (clock.instant().isAfter(sendUntil)) {
      // Left for the next round, after a renewal (or for the instance that takes the lease).
      return CompletableFuture.failedFuture(
          new OutboxException("the relay's lease runs out", null));
    }
    try {
      return sender.send(row.destination(), row.message()).thenApply(v -> row.seq());
    } catch (RuntimeException | Error e) { // that row waits for the next round; the others go on
      return CompletableFuture.failedFuture(e);
    }
  }

  private List<Row> read() throws SQLException {
    List<Row> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT seq, message_id, destination_kind, destination, partition_key, headers,"
                  + " payload FROM "
                  + prefix
                  + "outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?")) {
        ps.setInt(1, batchSize);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String id = rs.getString(2);
            String kind = rs.getString(3);
            String name = rs.getString(4);
            Message.Builder m = Payloads.builder(rs.getBytes(7)).id(id);
            StoredHeaders.read(rs.getString(6)).forEach(m::header);
            Destination d =
                "E".equals(kind) ? new Destination.Event(name) : new Destination.Queue(name);
            rows.add(new Row(rs.getLong(1), rs.getString(5), d, m.build()));
          }
        }
      }
    }
    return rows;
  }

  private void markSent(List<Long> seqs) throws SQLException {
    if (seqs.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps =
          c.prepareStatement("UPDATE " + prefix + "outbox SET sent_at = ? WHERE seq = ?")) {
        OffsetDateTime now = utc(clock.instant());
        for (Long seq : seqs) {
          ps.setObject(1, now);
          ps.setLong(2, seq);
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  // ---- purge and metrics -----------------------------------------------------------------------

  private void purgeIfDue() {
    Instant now = clock.instant();
    if (now.isBefore(nextPurge)) {
      return;
    }
    nextPurge = now.plus(PURGE_EVERY);
    purge();
  }

  int purge() {
    int total = 0;
    try (Connection c = dataSource.getConnection()) {
      SqlDialect d = dialect.of(c);
      String sql = d.outboxPurge(prefix);
      c.setAutoCommit(true);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int n;
        do {
          ps.setObject(1, utc(clock.instant().minus(retention)));
          n = ps.executeUpdate();
          total += n;
        } while (n == 1000 && !closed);
      }
      if (d == SqlDialect.H2) {
        // The writers' per-key lock rows (H2 has no advisory locks): drop those of keys with no
        // row left; a writer of such a key later simply creates its row again.
        try (PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM "
                    + prefix
                    + "outbox_key k WHERE NOT EXISTS (SELECT 1 FROM "
                    + prefix
                    + "outbox o WHERE o.partition_key = k.partition_key)")) {
          ps.executeUpdate();
        }
      }
    } catch (SQLException e) {
      throw new OutboxException("cannot purge the outbox: " + e.getMessage(), e);
    }
    return total;
  }

  OutboxMetrics metrics() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT COUNT(*), MIN(created_at) FROM "
                    + prefix
                    + "outbox WHERE sent_at IS NULL");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      long backlog = rs.getLong(1);
      OffsetDateTime oldest = rs.getObject(2, OffsetDateTime.class);
      Duration lag =
          oldest == null ? Duration.ZERO : Duration.between(oldest.toInstant(), clock.instant());
      return new OutboxMetrics(
          sent.get(), failures.get(), backlog, lag.isNegative() ? Duration.ZERO : lag, leaseHeld);
    } catch (SQLException e) {
      throw new OutboxException("cannot read the outbox: " + e.getMessage(), e);
    }
  }

  private static OffsetDateTime utc(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  @Override
  public void close() {
    closed = true;
    wakeUp();
    Thread t;
    CommitListener l;
    synchronized (this) {
      t = thread;
      l = listener;
    }
    if (l != null) {
      l.close();
    }
    if (t != null) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!t.isAlive() && leaseHeld) {
        releaseLease();
      }
    }
  }

  /** A relay that stops hands over at once instead of making the next one wait out its lease. */
  private void releaseLease() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE "
                    + prefix
                    + "outbox_lease SET expires_at = ? WHERE name = ? AND owner = ?")) {
      c.setAutoCommit(true);
      ps.setObject(1, utc(clock.instant().minusMillis(1)));
      ps.setString(2, relayName);
      ps.setString(3, instance);
      ps.executeUpdate();
      leaseHeld(false);
    } catch (SQLException e) {
      log.warn("outbox relay {}: could not give up the lease: {}", relayName, e.toString());
    }
  }
}
