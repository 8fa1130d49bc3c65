package dev.parley.testing.kit;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * An empty database for one test or run: an in-memory H2 (the embedded default) or a schema of its
 * own, {@code parley_test_<random>}, on the machine's PostgreSQL (127.0.0.1:5432, database {@code
 * test}, user {@code postgres}), dropped on close. The drivers are optional dependencies of the
 * kit: add H2 or the PostgreSQL driver to use one.
 */
public enum ScratchDatabase {
  H2,
  POSTGRESQL;

  /** A fresh, empty database. */
  public Instance open() {
    String name = "parley_test_" + UUID.randomUUID().toString().substring(0, 8);
    DataSource ds;
    if (this == H2) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL(
          "jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
      ds = h2;
    } else {
      execute(postgres(null, 5432), "CREATE SCHEMA " + name);
      ds = postgres(name, 5432);
    }
    return new Instance(this, name, ds);
  }

  /**
   * A data source for schema {@code schema} (or the default) of database {@code test} on the
   * machine's PostgreSQL, reached at {@code port} on loopback (a fault proxy's port, say).
   */
  public static PGSimpleDataSource postgres(String schema, int port) {
    return postgres(schema, port, "test");
  }

  static PGSimpleDataSource postgres(String schema, int port, String database) {
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setServerNames(new String[] {"127.0.0.1"});
    pg.setPortNumbers(new int[] {port});
    pg.setDatabaseName(database);
    pg.setUser("postgres");
    if (schema != null) {
      pg.setCurrentSchema(schema);
    }
    return pg;
  }

  /**
   * A connection pool (HikariCP, an optional dependency of the kit) of up to {@code size}
   * connections over {@code dataSource}; close it when done.
   */
  public static HikariDataSource pooled(DataSource dataSource, int size) {
    HikariConfig config = new HikariConfig();
    config.setDataSource(dataSource);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(0);
    config.setPoolName("parley-scratch");
    return new HikariDataSource(config);
  }

  /** Runs one statement on a connection of its own (auto-commit). */
  public static void execute(DataSource ds, String sql) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** An open scratch database; {@link #close()} drops it. */
  public record Instance(ScratchDatabase kind, String name, DataSource dataSource)
      implements AutoCloseable {

    /** The first column of the first row of a query returning a number. */
    public long count(String sql) {
      try (Connection c = dataSource.getConnection();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      } catch (SQLException e) {
        throw new IllegalStateException(sql + ": " + e.getMessage(), e);
      }
    }

    /** Runs one statement (auto-commit). */
    public void execute(String sql) {
      ScratchDatabase.execute(dataSource, sql);
    }

    @Override
    public void close() {
      if (kind == H2) {
        execute("SHUTDOWN");
      } else {
        ScratchDatabase.execute(postgres(null, 5432), "DROP SCHEMA " + name + " CASCADE");
      }
    }
  }
}
