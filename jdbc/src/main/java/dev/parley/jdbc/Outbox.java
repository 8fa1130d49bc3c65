package dev.parley.jdbc;

import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.transport.spi.Durations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The transactional outbox. {@link #publish} and {@link #send} write the message, exactly as {@link
 * Messaging#publish}/{@link Messaging#send} would send it, as a row in the caller's own
 * transaction: it goes out if and only if that transaction commits. A relay ({@link #start()})
 * sends committed rows through the messaging instance ({@code Messaging.forward}: its publish
 * policy and counters), with the broker's confirm, and only then marks them sent.
 *
 * <pre>{@code
 * try (Connection c = dataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   orders.insert(c, order);
 *   outbox.publish(c, ORDER_EVENTS, new OrderCreated(order.id(), order.total()));
 *   c.commit();                      // the event is sent after this, and only after this
 * }
 * }</pre>
 *
 * <p>Order: rows of one partition key are sent one at a time, in the order their transactions
 * committed (writers of one key take turns on a lock until they commit). A message may be sent more
 * than once (the relay died between the broker's confirm and marking the row): consume it through
 * an {@link Inbox}.
 */
public final class Outbox implements AutoCloseable {

  private final DataSource dataSource;
  private final Messaging messaging;
  private final String prefix;
  private final Clock clock;
  private final OutboxRelay relay;
  private final boolean listenForCommits;
  private final SqlDialect.Known dialect = new SqlDialect.Known();
  private volatile WriteSql writeSql;

  private Outbox(Builder b) {
    this.dataSource = b.dataSource;
    this.messaging = b.messaging;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.listenForCommits = b.listenForCommits;
    this.relay = new OutboxRelay(b, messaging::forward, dialect);
  }

  public static Builder builder(DataSource dataSource, Messaging messaging) {
    return new Builder(dataSource, messaging);
  }

  /**
   * Writes an event for {@code channel} in the transaction of {@code connection}.
   *
   * @return the message that will be sent
   */
  public <T> Message publish(Connection connection, Channel<T> channel, T event) {
    if (channel.kind() != Channel.Kind.EVENT) {
      throw new IllegalArgumentException("channel: " + channel + " (expected: an event channel)");
    }
    return write(connection, 'E', channel, event);
  }

  /**
   * Writes a command (a one-way send) for {@code channel} in the transaction of {@code connection}.
   *
   * @return the message that will be sent
   */
  public <T> Message send(Connection connection, Channel<T> channel, T command) {
    if (channel.kind() != Channel.Kind.COMMAND) {
      throw new IllegalArgumentException("channel: " + channel + " (expected: a command channel)");
    }
    return write(connection, 'C', channel, command);
  }

  private <T> Message write(Connection connection, char kind, Channel<T> channel, T payload) {
    Objects.requireNonNull(connection, "connection");
    Message message = messaging.encode(channel, payload);
    String key = message.header(Headers.PARTITION_KEY).orElse(null);
    try {
      WriteSql sql = writeSql(connection);
      if (key != null && sql.lockKey() != null) {
        try (PreparedStatement lock = connection.prepareStatement(sql.lockKey())) {
          lock.setString(1, key);
          lock.execute();
        }
      }
      try (PreparedStatement ps =
          connection.prepareStatement(key != null ? sql.keyed() : sql.unkeyed())) {
        int i = 1;
        if (sql.dialect() == SqlDialect.POSTGRESQL) {
          if (key != null) {
            ps.setString(i++, key);
          }
          if (listenForCommits) {
            ps.setString(i++, CommitListener.channel(prefix));
          }
        }
        ps.setString(i, message.id());
        ps.setString(i + 1, String.valueOf(kind));
        ps.setString(i + 2, channel.name());
        ps.setString(i + 3, key);
        ps.setString(i + 4, StoredHeaders.write(message.headers()));
        ps.setBytes(i + 5, Payloads.shared(message));
        ps.setObject(i + 6, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new OutboxException("cannot write to the outbox: " + e.getMessage(), e);
    }
    relay.wakeUp();
    return message;
  }

  /** The write path's SQL for this outbox's database, built on the first write. */
  private record WriteSql(SqlDialect dialect, String lockKey, String keyed, String unkeyed) {}

  private WriteSql writeSql(Connection c) throws SQLException {
    WriteSql w = writeSql;
    if (w == null) {
      SqlDialect d = dialect.of(c);
      w =
          new WriteSql(
              d,
              d.lockKey(prefix),
              d.outboxInsert(prefix, true, listenForCommits),
              d.outboxInsert(prefix, false, listenForCommits));
      writeSql = w;
    }
    return w;
  }

  /** Starts the relay thread (idempotent). */
  public Outbox start() {
    relay.start();
    return this;
  }

  /** What the relay has done and what waits. */
  public OutboxMetrics metrics() {
    return relay.metrics();
  }

  /** Deletes sent rows older than the retention now (the relay also does it periodically). */
  public int purge() {
    return relay.purge();
  }

  /** Stops the relay, waiting for the batch in flight. */
  @Override
  public void close() {
    relay.close();
  }

  /** Configures an {@link Outbox}. Not thread-safe. */
  public static final class Builder {
    final DataSource dataSource;
    final Messaging messaging;
    String prefix = Schema.DEFAULT_PREFIX;
    Clock clock = Clock.systemUTC();
    int batchSize = 500;
    Duration pollInterval = Duration.ofMillis(50);
    Duration retention = Duration.ofDays(1);
    Duration lease = Duration.ofSeconds(10);
    String relayName = "default";
    String instance = UUID.randomUUID().toString();
    boolean createSchema;
    boolean listenForCommits = true;
    OutboxRelay.CrashHook crashHook = OutboxRelay.CrashHook.NONE;

    private Builder(DataSource dataSource, Messaging messaging) {
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
      this.messaging = Objects.requireNonNull(messaging, "messaging");
    }

    /** Table prefix; default {@code parley_}. */
    public Builder tablePrefix(String prefix) {
      this.prefix = Schema.checkPrefix(prefix);
      return this;
    }

    /** Rows the relay sends per round; default 500. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: > 0)");
      }
      this.batchSize = batchSize;
      return this;
    }

    /**
     * How often an idle relay looks for new rows; default 50 ms (on PostgreSQL a commit wakes it at
     * once, see {@link #listenForCommits}).
     */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = Durations.positive(pollInterval, "pollInterval");
      return this;
    }

    /** How long sent rows are kept before they are purged; default 1 day. */
    public Builder retention(Duration retention) {
      this.retention = Durations.positive(retention, "retention");
      return this;
    }

    /**
     * How long a relay's lease lasts without renewal; default 10 s. Of several instances relaying
     * one outbox, only the lease holder sends; another takes over when the lease runs out.
     */
    public Builder lease(Duration lease) {
      this.lease = Durations.positive(lease, "lease");
      return this;
    }

    /**
     * Names this outbox's lease (instances relaying the same tables share it); default {@code
     * default}.
     */
    public Builder relayName(String relayName) {
      this.relayName = Objects.requireNonNull(relayName, "relayName");
      return this;
    }

    /** This instance's name in the lease table; default a random UUID. */
    public Builder instance(String instance) {
      this.instance = Objects.requireNonNull(instance, "instance");
      return this;
    }

    /**
     * On PostgreSQL, whether a write notifies the relays at commit ({@code NOTIFY}, delivered only
     * when the transaction commits) and the relay listens ({@code LISTEN}, on a connection it
     * holds): the relay then sends a row moments after its transaction commits, even when another
     * process wrote it. Default on; off, relays find rows by polling. H2 always polls.
     */
    public Builder listenForCommits(boolean listenForCommits) {
      this.listenForCommits = listenForCommits;
      return this;
    }

    /** Creates the tables if they are missing when the outbox is built; default off. */
    public Builder createSchema(boolean createSchema) {
      this.createSchema = createSchema;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** For crash-point tests only (RELIABILITY.md M3). */
    Builder crashHook(OutboxRelay.CrashHook crashHook) {
      this.crashHook = Objects.requireNonNull(crashHook, "crashHook");
      return this;
    }

    public Outbox build() {
      if (createSchema) {
        Schema.create(dataSource, prefix);
      }
      return new Outbox(this);
    }
  }
}
