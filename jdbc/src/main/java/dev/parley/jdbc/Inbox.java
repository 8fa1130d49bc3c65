package dev.parley.jdbc;

import dev.parley.messaging.MessageContext;
import dev.parley.messaging.MessageHandler;
import dev.parley.transport.spi.Durations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
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
public final class Inbox {

  private final DataSource dataSource;
  private final String prefix;
  private final Clock clock;
  private final Duration retention;
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private volatile SqlDialect dialect;

  private Inbox(Builder b) {
    this.dataSource = b.dataSource;
    this.prefix = b.prefix;
    this.clock = b.clock;
    this.retention = b.retention;
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

  private <T> void handle(
      String group, TransactionalHandler<T> handler, T payload, MessageContext context)
      throws Exception {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!record(c, group, context.message().id())) {
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

  /** Records the id; false when this group has it already. */
  private boolean record(Connection c, String group, String messageId) throws SQLException {
    SqlDialect d = dialect;
    if (d == null) {
      d = SqlDialect.of(c);
      dialect = d;
    }
    try (PreparedStatement ps = c.prepareStatement(d.inboxInsert(prefix))) {
      ps.setString(1, group);
      ps.setString(2, messageId);
      ps.setObject(3, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      if (d == SqlDialect.H2 && OutboxRelay.isDuplicate(e)) {
        return false;
      }
      throw e;
    }
  }

  /** Deletes ids recorded longer ago than the retention; returns how many. */
  public int purge() {
    int total = 0;
    String sql =
        "DELETE FROM "
            + prefix
            + "inbox WHERE (consumer_group, message_id) IN (SELECT consumer_group, message_id FROM "
            + prefix
            + "inbox WHERE received_at < ? LIMIT 1000)";
    try (Connection c = dataSource.getConnection()) {
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

  /** Configures an {@link Inbox}. Not thread-safe. */
  public static final class Builder {
    final DataSource dataSource;
    String prefix = Schema.DEFAULT_PREFIX;
    Clock clock = Clock.systemUTC();
    Duration retention = Duration.ofDays(7);
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
