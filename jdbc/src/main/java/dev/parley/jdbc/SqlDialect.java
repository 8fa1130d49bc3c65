package dev.parley.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
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

  /**
   * SQL that makes writers of one partition key take turns until they commit, so that their rows
   * get outbox sequence numbers in commit order (the relay then sends a key's rows in order). One
   * parameter: the key.
   */
  String lockKey(String prefix) {
    return switch (this) {
      case POSTGRESQL -> "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))";
      case H2 ->
          "MERGE INTO " + prefix + "outbox_key (partition_key) KEY (partition_key) VALUES (?)";
    };
  }

  /** Records (group, id, time); affects 0 rows for a duplicate (H2 throws instead, see Inbox). */
  String inboxInsert(String prefix) {
    return switch (this) {
      case POSTGRESQL ->
          "INSERT INTO "
              + prefix
              + "inbox (consumer_group, message_id, received_at) VALUES (?, ?, ?)"
              + " ON CONFLICT DO NOTHING";
      case H2 ->
          "INSERT INTO "
              + prefix
              + "inbox (consumer_group, message_id, received_at) VALUES (?, ?, ?)";
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
