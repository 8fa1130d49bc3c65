package dev.parley.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database for one test class: an in-memory H2 (the embedded default) or a schema of its own on
 * the machine's PostgreSQL (localhost:5432, database {@code test}), dropped afterwards.
 */
enum Database {
  H2,
  POSTGRESQL;

  /** A fresh, empty database with Parley's tables. */
  Instance open() {
    String name = "parley_test_" + UUID.randomUUID().toString().substring(0, 8);
    DataSource ds;
    if (this == H2) {
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL(
          "jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
      ds = h2;
    } else {
      PGSimpleDataSource admin = pg(null);
      execute(admin, "CREATE SCHEMA " + name);
      ds = pg(name);
    }
    Schema.create(ds, Schema.DEFAULT_PREFIX);
    return new Instance(this, name, ds);
  }

  private static PGSimpleDataSource pg(String schema) {
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setServerNames(new String[] {"127.0.0.1"});
    pg.setPortNumbers(new int[] {5432});
    pg.setDatabaseName("test");
    pg.setUser("postgres");
    if (schema != null) {
      pg.setCurrentSchema(schema);
    }
    return pg;
  }

  static void execute(DataSource ds, String sql) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  record Instance(Database kind, String name, DataSource dataSource) implements AutoCloseable {
    @Override
    public void close() {
      if (kind == H2) {
        execute(dataSource, "SHUTDOWN");
      } else {
        execute(pg(null), "DROP SCHEMA " + name + " CASCADE");
      }
    }

    long count(String sql) {
      try (Connection c = dataSource.getConnection();
          Statement s = c.createStatement();
          var rs = s.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      } catch (SQLException e) {
        throw new IllegalStateException(sql + ": " + e.getMessage(), e);
      }
    }
  }
}
