package dev.parley.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The outbox and inbox tables. The scripts ship in the jar ({@code dev/parley/jdbc/postgresql.sql}
 * and {@code h2.sql}, with {@code ${prefix}} for the table prefix): {@link #create} applies them
 * (idempotently, {@code IF NOT EXISTS}); {@link #script} gives the text for Flyway or Liquibase.
 */
public final class Schema {

  /** The default table prefix: tables {@code parley_outbox}, {@code parley_inbox}, … */
  public static final String DEFAULT_PREFIX = "parley_";

  private static final Pattern PREFIX = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,40}");

  private Schema() {}

  /** Creates the tables, if missing, in the database behind {@code dataSource}. */
  public static void create(DataSource dataSource, String prefix) {
    try (Connection c = dataSource.getConnection()) {
      String sql = script(SqlDialect.of(c), prefix);
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        for (String statement : sql.split(";")) {
          String trimmed = statement.replaceAll("(?m)^--.*$", "").trim();
          if (!trimmed.isEmpty()) {
            s.execute(trimmed);
          }
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create Parley's tables: " + e.getMessage(), e);
    }
  }

  /** The script for {@code "postgresql"} or {@code "h2"} with {@code prefix} filled in. */
  public static String script(String database, String prefix) {
    return script(SqlDialect.valueOf(database.toUpperCase(java.util.Locale.ROOT)), prefix);
  }

  static String script(SqlDialect dialect, String prefix) {
    checkPrefix(prefix);
    try (InputStream in = Schema.class.getResourceAsStream(dialect.script)) {
      Objects.requireNonNull(in, dialect.script);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${prefix}", prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String checkPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "prefix: '"
              + prefix
              + "' (expected: letters, digits and '_', not starting with a digit)");
    }
    return prefix;
  }
}
