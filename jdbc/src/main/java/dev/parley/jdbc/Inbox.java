package dev.parley.jdbc;

import dev.parley.error.BadInputException;
import dev.parley.internal.Payloads;
import dev.parley.message.Message;
import dev.parley.messaging.Deduplication;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.MessageHandler;
import dev.parley.transport.spi.Durations;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * The idempotent consumer. {@link #handler} wraps a {@link TransactionalHandler} so that each
 * message is handled in a transaction that first records (subscriber group, message id) in the
 * inbox table: a redelivered duplicate finds its id there and is acknowledged without running the
 * handler, and two concurrent deliveries of one message never both apply (the second waits on the
 * first's row, then sees it). The handler's effects and the record commit together — exactly-once
 * effects over at-least-once delivery.
 *
 * <pre>{@code
 * messaging.subscribe(ORDER_EVENTS, "kitchen",
 *     inbox.handler("kitchen", (event, ctx, connection) -> tickets.create(connection, event)));
 * }</pre>
 *
 * <p>Ids are kept for the {@linkplain Builder#retention retention} and then {@linkplain #purge
 * purged}; keep it longer than any redelivery can come (retry tiers, broker redelivery, an outbox
 * relay resending after a crash).
 */
public final class Inbox implements Deduplication {

  private final DataSource dataSource;
  private final String prefix;
  private final Clock clock;
  private final Duration retention;
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong idReused = new AtomicLong();
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Inbox.class);
  private final int batchSize;
  private final SqlDialect.Known dialect = new SqlDialect.Known();

  private Inbox(Builder b) {
    this.dataSource = b.dataSource;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.retention = b.retention;
    this.batchSize = b.batchSize;
  }

  public static Builder builder(DataSource dataSource) {
    return new Builder(dataSource);
  }

  /**
   * A handler for subscriber group {@code group} (use the group's name, or the command channel's
   * name for a command consumer): ids are deduplicated per group, so every group handles each
   * message once.
   */
  public <T> MessageHandler<T> handler(String group, TransactionalHandler<T> handler) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(handler, "handler");
    return (payload, context) -> handle(group, handler, payload, context);
  }

  /**
   * A handler that records each message for the group of the subscription it serves ({@link
   * MessageContext#group()}), so the group is named once, where the subscription is made. Pair it
   * with {@code SubscriptionOptions.withInbox(inbox)}: the subscription then skips a duplicate
   * before its retries, once per delivery.
   */
  public <T> MessageHandler<T> handler(TransactionalHandler<T> handler) {
    Objects.requireNonNull(handler, "handler");
    return (payload, context) -> {
      String group = context.group();
      if (group == null || group.isEmpty()) {
        throw new IllegalStateException(
            "the message context names no group: use handler(group, ..)");
      }
      handle(group, handler, payload, context);
    };
  }

  /**
   * Whether {@code group} has recorded {@code message}: the {@code dedup} step of a subscription
   * made with {@code SubscriptionOptions.withInbox(this)} asks it once per delivery. A recorded id
   * with another payload is refused as bad input ({@link #ID_REUSED}), as in the handler.
   */
  @Override
  public boolean isDuplicate(String group, Message message) throws SQLException {
    String recorded;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT payload_digest FROM "
                    + prefix
                    + "inbox WHERE consumer_group = ? AND message_id = ?")) {
      ps.setString(1, group);
      ps.setString(2, message.id());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        recorded = rs.getString(1);
      }
    }
    if (recorded != null && !recorded.equals(digest(Payloads.shared(message)))) {
      idReused.incrementAndGet();
      throw new BadInputException(
          ID_REUSED,
          "message id "
              + message.id()
              + " was already recorded for group "
              + group
              + " with a different payload");
    }
    duplicates.incrementAndGet();
    return true;
  }

  private <T> void handle(
      String group, TransactionalHandler<T> handler, T payload, MessageContext context)
      throws Exception {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        String digest = digest(context);
        if (!record(c, group, context.message().id(), digest)) {
          checkSamePayload(c, group, context, digest);
          c.rollback();
          duplicates.incrementAndGet();
          return;
        }
        handler.handle(payload, context, c);
        c.commit();
        handled.incrementAndGet();
      } catch (Exception | Error e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    }
  }

  /**
   * Like {@link #handler}, but commits the messages that arrive together in one transaction (group
   * commit): while one batch commits, the messages delivered meanwhile queue up, and the next
   * transaction takes them all, up to the {@linkplain Builder#batchSize batch size}. Each delivery
   * returns — and so is acknowledged — only after the transaction holding it has committed, so the
   * guarantee is the same as {@link #handler}'s; what changes is that one commit (one fsync) serves
   * many messages. Batches form from concurrent deliveries: give the subscription a concurrency
   * (and prefetch) of about the batch size. Calls for one partition key never share a batch (a
   * key's lane does not start its next message before the previous one returns), so order holds.
   *
   * <p>If anything in a batch fails — a handler throws, the commit fails — the batch is rolled back
   * and its messages are handled again one transaction each, so one bad message fails alone.
   */
  public <T> MessageHandler<T> batchingHandler(String group, TransactionalHandler<T> handler) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(handler, "handler");
    GroupCommit<T> commits = new GroupCommit<>(group, handler);
    return commits::handle;
  }

  /** One delivery waiting for its batch. */
  private static final class Pending<T> {
    final T payload;
    final MessageContext context;
    final CountDownLatch done = new CountDownLatch(1);
    volatile Exception failure;

    Pending(T payload, MessageContext context) {
      this.payload = payload;
      this.context = context;
    }

    boolean isDone() {
      return done.getCount() == 0;
    }
  }

  /**
   * The batching of one {@link #batchingHandler}. A delivery queues itself; whoever finds no
   * committer running becomes it and commits batch after batch until the queue is empty, while the
   * others wait for their own message to be done (not for the lock: a line of threads taking the
   * lock in turn would make every batch small).
   */
  private final class GroupCommit<T> {
    private final String group;
    private final TransactionalHandler<T> handler;
    private final ConcurrentLinkedQueue<Pending<T>> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock committer = new ReentrantLock();

    GroupCommit(String group, TransactionalHandler<T> handler) {
      this.group = group;
      this.handler = handler;
    }

    void handle(T payload, MessageContext context) throws Exception {
      Pending<T> mine = new Pending<>(payload, context);
      queue.add(mine);
      while (true) {
        if (committer.tryLock()) {
          try {
            while (!queue.isEmpty()) {
              List<Pending<T>> batch = new ArrayList<>(Math.min(batchSize, 64));
              Pending<T> next;
              while (batch.size() < batchSize && (next = queue.poll()) != null) {
                batch.add(next);
              }
              commit(batch);
            }
          } finally {
            committer.unlock();
          }
          // A delivery queued after our last look, whose thread found the lock taken, waits for
          // the committer to take it: whoever unlocks looks again, so none is left behind.
          if (queue.isEmpty()) {
            break;
          }
        } else if (mine.isDone() || mine.done.await(100, TimeUnit.MILLISECONDS)) {
          // The committer takes ours in a batch and looks again before it leaves; the timeout
          // only bounds the wait should it have died with ours taken (an Error).
          break;
        }
      }
      if (mine.failure != null) {
        throw mine.failure;
      }
    }

    private void commit(List<Pending<T>> batch) {
      try {
        commitTogether(batch);
      } catch (Exception | Error e) {
        // One transaction each, so that only what fails fails.
        for (Pending<T> p : batch) {
          try {
            Inbox.this.handle(group, handler, p.payload, p.context);
          } catch (Exception failure) {
            p.failure = failure;
          }
          p.done.countDown();
        }
      }
    }

    private void commitTogether(List<Pending<T>> batch) throws Exception {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        try {
          String[] digests = new String[batch.size()];
          for (int i = 0; i < digests.length; i++) {
            digests[i] = digest(batch.get(i).context);
          }
          boolean[] fresh = recordAll(c, group, batch, digests);
          int applied = 0;
          int reused = 0;
          for (int i = 0; i < batch.size(); i++) {
            Pending<T> p = batch.get(i);
            if (fresh[i]) {
              handler.handle(p.payload, p.context, c);
              applied++;
            } else {
              try {
                checkSamePayload(c, group, p.context, digests[i]);
              } catch (BadInputException e) {
                p.failure = e;
                reused++;
              }
            }
          }
          c.commit();
          handled.addAndGet(applied);
          duplicates.addAndGet(batch.size() - applied - reused);
          batches.incrementAndGet();
          for (Pending<T> p : batch) {
            p.done.countDown();
          }
        } catch (Exception | Error e) {
          try {
            c.rollback();
          } catch (SQLException suppressed) {
            e.addSuppressed(suppressed);
          }
          throw e;
        }
      }
    }
  }

  /**
   * Records the ids of a batch in id order (two batches recording overlapping ids in another order
   * could deadlock); returns which were new. A batch may hold one id twice (a redelivery beside its
   * original): only the first is new.
   */
  private <T> boolean[] recordAll(
      Connection c, String group, List<Pending<T>> batch, String[] digests) throws SQLException {
    Integer[] order = new Integer[batch.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparing((Integer i) -> id(batch.get(i))).thenComparing(i -> i));
    boolean[] fresh = new boolean[batch.size()];
    if (dialect.of(c) != SqlDialect.POSTGRESQL) {
      for (Integer i : order) {
        fresh[i] = record(c, group, id(batch.get(i)), digests[i]);
      }
      return fresh;
    }
    // One statement for the whole batch (a batch of single-row inserts cost PostgreSQL an
    // execution per row); it returns the ids it inserted.
    String[] ids = new String[order.length];
    String[] orderedDigests = new String[order.length];
    for (int k = 0; k < order.length; k++) {
      ids[k] = id(batch.get(order[k]));
      orderedDigests[k] = digests[order[k]];
    }
    java.util.Set<String> inserted = new java.util.HashSet<>();
    try (PreparedStatement ps = c.prepareStatement(SqlDialect.inboxInsertAll(prefix))) {
      ps.setString(1, group);
      ps.setObject(2, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
      ps.setArray(3, c.createArrayOf("varchar", ids));
      ps.setArray(4, c.createArrayOf("varchar", orderedDigests));
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(rs.getString(1));
        }
      }
    }
    for (int k = 0; k < order.length; k++) {
      // the first of an id the batch holds twice is the new one
      fresh[order[k]] = inserted.remove(ids[k]);
    }
    return fresh;
  }

  private static String id(Pending<?> p) {
    return p.context.message().id();
  }

  /** Records the id and payload digest; false when this group has the id already. */
  private boolean record(Connection c, String group, String messageId, String digest)
      throws SQLException {
    SqlDialect d = dialect.of(c);
    try (PreparedStatement ps = c.prepareStatement(d.inboxInsert(prefix))) {
      ps.setString(1, group);
      ps.setString(2, messageId);
      ps.setObject(3, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
      ps.setString(4, digest);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      if (d == SqlDialect.H2 && OutboxRelay.isDuplicate(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * A duplicate id is a redelivery only if it carries the payload recorded with it. A different
   * payload under a known id is another message reusing the id (a sender bug, or a forgery): it is
   * not dropped silently as a duplicate but refused as bad input, so the pipeline dead-letters it
   * with {@code parley.inbox.id_reused}. Rows recorded before digests were kept have none and count
   * as the same.
   */
  private void checkSamePayload(Connection c, String group, MessageContext context, String digest)
      throws SQLException {
    String recorded;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT payload_digest FROM "
                + prefix
                + "inbox WHERE consumer_group = ? AND message_id = ?")) {
      ps.setString(1, group);
      ps.setString(2, context.message().id());
      try (ResultSet rs = ps.executeQuery()) {
        recorded = rs.next() ? rs.getString(1) : null;
      }
    }
    if (recorded != null && !recorded.equals(digest)) {
      idReused.incrementAndGet();
      log.warn(
          "inbox {}: message {} reuses the id of an earlier message with another payload;"
              + " dead-lettering it",
          group,
          context.message().id());
      throw new BadInputException(
          ID_REUSED,
          "message id "
              + context.message().id()
              + " was already recorded for group "
              + group
              + " with a different payload");
    }
  }

  /** The error code of a message that reuses a recorded id with a different payload. */
  public static final String ID_REUSED = "parley.inbox.id_reused";

  /** SHA-256 of the payload, hex: what a redelivery has in common with its original. */
  static String digest(MessageContext context) {
    return digest(Payloads.shared(context.message()));
  }

  static String digest(byte[] payload) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(payload);
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Messages refused because they reused a recorded id with a different payload. */
  public long idReused() {
    return idReused.get();
  }

  /** Deletes ids recorded longer ago than the retention; returns how many. */
  public int purge() {
    int total = 0;
    try (Connection c = dataSource.getConnection()) {
      String sql = dialect.of(c).inboxPurge(prefix);
      c.setAutoCommit(true);
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int n;
        do {
          ps.setObject(
              1, OffsetDateTime.ofInstant(clock.instant().minus(retention), ZoneOffset.UTC));
          n = ps.executeUpdate();
          total += n;
        } while (n == 1000);
      }
    } catch (SQLException e) {
      throw new OutboxException("cannot purge the inbox: " + e.getMessage(), e);
    }
    return total;
  }

  /** Messages handled (committed) through this inbox. */
  public long handled() {
    return handled.get();
  }

  /** Duplicates recognised and skipped (the dedup hits). */
  public long duplicates() {
    return duplicates.get();
  }

  /** Transactions that committed a batch of a {@link #batchingHandler}. */
  public long batches() {
    return batches.get();
  }

  /** Configures an {@link Inbox}. Not thread-safe. */
  public static final class Builder {
    final DataSource dataSource;
    String prefix = Schema.DEFAULT_PREFIX;
    Clock clock = Clock.systemUTC();
    Duration retention = Duration.ofDays(7);
    int batchSize = 100;
    boolean createSchema;

    private Builder(DataSource dataSource) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    public Builder tablePrefix(String prefix) {
      this.prefix = Schema.checkPrefix(prefix);
      return this;
    }

    /** How long ids are kept; default 7 days. Must exceed the redelivery horizon. */
    public Builder retention(Duration retention) {
      this.retention = Durations.positive(retention, "retention");
      return this;
    }

    /** The most messages a {@link Inbox#batchingHandler} commits together; default 100. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: > 0)");
      }
      this.batchSize = batchSize;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Creates the tables if they are missing when the inbox is built; default off. */
    public Builder createSchema(boolean createSchema) {
      this.createSchema = createSchema;
      return this;
    }

    public Inbox build() {
      if (createSchema) {
        Schema.create(dataSource, prefix);
      }
      return new Inbox(this);
    }
  }
}
