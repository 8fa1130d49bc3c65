package dev.parley.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The SQL that differs between the databases Parley supports. */
enum SqlDialect {
  POSTGRESQL("postgresql.sql"),
  H2("h2.sql");

  final String script;

  SqlDialect(String script) {
    this.script = script;
  }

  static SqlDialect of(Connection c) throws SQLException {
    String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
    if (product.contains("postgres")) {
      return POSTGRESQL;
    }
    if (product.contains("h2")) {
      return H2;
    }
    throw new SQLException(
        "unsupported database: " + product + " (expected: PostgreSQL or H2)", "0A000");
  }

  /** The dialect of one data source, found on first use and remembered. */
  static final class Known {
    private volatile SqlDialect dialect;

    SqlDialect of(Connection c) throws SQLException {
      SqlDialect d = dialect;
      if (d == null) {
        d = SqlDialect.of(c);
        dialect = d;
      }
      return d;
    }
  }

  /**
   * Writers of one partition key take turns until they commit, so that their rows get outbox
   * sequence numbers in commit order (the relay then sends a key's rows in order). On H2 that is a
   * statement of its own, run before the insert (one parameter: the key); on PostgreSQL {@link
   * #outboxInsert} takes the turn itself, and this is null.
   */
  String lockKey(String prefix) {
    return switch (this) {
      case POSTGRESQL -> null;
      case H2 ->
          "MERGE INTO " + prefix + "outbox_key (partition_key) KEY (partition_key) VALUES (?)";
    };
  }

  /**
   * Inserts one outbox row. Parameters: on PostgreSQL first the key (if {@code keyed}) and the
   * notification channel (if {@code notify}), then the row's seven columns. On PostgreSQL it is one
   * statement, one round trip: the key's turn ({@code pg_advisory_xact_lock}, taken before the row
   * gets its sequence number), the commit notification for listening relays, and the row.
   */
  String outboxInsert(String prefix, boolean keyed, boolean notify) {
    String columns =
        prefix
            + "outbox (message_id, destination_kind, destination, partition_key, headers, payload,"
            + " created_at)";
    List<String> with = new ArrayList<>(2);
    List<String> from = new ArrayList<>(2);
    if (this == POSTGRESQL && keyed) {
      with.add("turn AS (SELECT pg_advisory_xact_lock(hashtextextended(?, 0)))");
      from.add("turn");
    }
    if (this == POSTGRESQL && notify) {
      with.add("wake AS (SELECT pg_notify(?, ''))");
      from.add("wake");
    }
    if (with.isEmpty()) {
      return "INSERT INTO " + columns + " VALUES (?, ?, ?, ?, ?, ?, ?)";
    }
    return "WITH "
        + String.join(", ", with)
        + " INSERT INTO "
        + columns
        + " SELECT ?, ?, ?, ?, ?, ?, ? FROM "
        + String.join(", ", from);
  }

  /**
   * PostgreSQL: records a batch's ids in one statement — the ids and digests as two arrays,
   * inserted in their order (that of the arrays) — and returns the ids that were new. A known id,
   * and an id the batch holds twice after its first, insert nothing (DO NOTHING skips a row that
   * conflicts with one the same statement inserted).
   */
  static String inboxInsertAll(String prefix) {
    return "INSERT INTO "
        + prefix
        + "inbox (consumer_group, message_id, received_at, payload_digest)"
        + " SELECT ?, t.id, ?, t.digest FROM unnest(?::varchar[], ?::varchar[])"
        + " WITH ORDINALITY AS t(id, digest, n) ORDER BY t.n"
        + " ON CONFLICT DO NOTHING RETURNING message_id";
  }

  /** Records (group, id, time); affects 0 rows for a duplicate (H2 throws instead, see Inbox). */
  String inboxInsert(String prefix) {
    return switch (this) {
      case POSTGRESQL ->
          "INSERT INTO "
              + prefix
              + "inbox (consumer_group, message_id, received_at, payload_digest)"
              + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
      case H2 ->
          "INSERT INTO "
              + prefix
              + "inbox (consumer_group, message_id, received_at, payload_digest)"
              + " VALUES (?, ?, ?, ?)";
    };
  }

  /** Deletes up to 1,000 inbox ids recorded before the one parameter (a time). */
  String inboxPurge(String prefix) {
    return switch (this) {
      case POSTGRESQL ->
          "DELETE FROM "
              + prefix
              + "inbox WHERE (consumer_group, message_id) IN (SELECT consumer_group, message_id FROM "
              + prefix
              + "inbox WHERE received_at < ? LIMIT 1000)";
      // H2 would scan the table for the row-value IN once per chunk.
      case H2 -> "DELETE FROM " + prefix + "inbox WHERE received_at < ? FETCH FIRST 1000 ROWS ONLY";
    };
  }

  /** Deletes up to 1,000 outbox rows sent before the one parameter (a time). */
  String outboxPurge(String prefix) {
    return switch (this) {
      case POSTGRESQL ->
          "DELETE FROM "
              + prefix
              + "outbox WHERE seq IN (SELECT seq FROM "
              + prefix
              + "outbox WHERE sent_at < ? ORDER BY seq LIMIT 1000)";
      case H2 -> "DELETE FROM " + prefix + "outbox WHERE sent_at < ? FETCH FIRST 1000 ROWS ONLY";
    };
  }
}
