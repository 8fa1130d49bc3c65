package dev.parley.examples.ftgo.common;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.jdbc.Inbox;
import dev.parley.jdbc.Outbox;
import dev.parley.jdbc.TransactionalHandler;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.MessagingBuilder;
import dev.parley.messaging.Subscription;
import dev.parley.messaging.SubscriptionOptions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * What every FTGO service runs on: its {@link Messaging}, its own database (H2 in memory by
 * default, a PostgreSQL schema of its own when configured), a started {@link Outbox} and an {@link
 * Inbox} on that database. Close it to stop them.
 */
public final class ServiceRuntime implements AutoCloseable {

  private final String service;
  private final Messaging messaging;
  private final HikariDataSource dataSource;
  private final Outbox outbox;
  private final Inbox inbox;

  private ServiceRuntime(String service) throws SQLException {
    this.service = service;
    MessagingBuilder builder = Messaging.builder().service(service);
    FtgoConfig.brokerUrl().ifPresent(builder::brokerUri);
    this.messaging = builder.build();
    this.dataSource = dataSource(service);
    this.outbox = Outbox.builder(dataSource, messaging).createSchema(true).build().start();
    this.inbox = Inbox.builder(dataSource).createSchema(true).build();
  }

  /** Starts the runtime of {@code service} (e.g. {@code kitchen}) from {@link FtgoConfig}. */
  public static ServiceRuntime start(String service) {
    try {
      return new ServiceRuntime(service);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the database of " + service, e);
    }
  }

  private static HikariDataSource dataSource(String service) throws SQLException {
    HikariConfig config = new HikariConfig();
    config.setPoolName("ftgo-" + service);
    config.setMaximumPoolSize(16);
    String url = FtgoConfig.jdbcUrl().orElse(null);
    if (url == null) {
      // LOCK_TIMEOUT: writers of one order's outbox rows wait for each other's commits
      config.setJdbcUrl("jdbc:h2:mem:ftgo_" + service + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
    } else {
      String schema = FtgoConfig.schemaPrefix() + service;
      config.setJdbcUrl(url);
      config.setUsername(FtgoConfig.get("ftgo.jdbc.user").orElse("postgres"));
      FtgoConfig.get("ftgo.jdbc.password").ifPresent(config::setPassword);
      try (HikariDataSource bootstrap = new HikariDataSource(copy(config, 1));
          Connection c = bootstrap.getConnection();
          Statement s = c.createStatement()) {
        s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
      }
      config.setSchema(schema);
    }
    return new HikariDataSource(config);
  }

  private static HikariConfig copy(HikariConfig config, int size) {
    HikariConfig copy = new HikariConfig();
    config.copyStateTo(copy);
    copy.setPoolName(config.getPoolName() + "-bootstrap");
    copy.setMaximumPoolSize(size);
    return copy;
  }

  public String service() {
    return service;
  }

  public Messaging messaging() {
    return messaging;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public Outbox outbox() {
    return outbox;
  }

  public Inbox inbox() {
    return inbox;
  }

  /**
   * How the services consume: one consumer per subscription. (On AMQP, a subscription with
   * concurrency above 1 that opens on a backlog stalls after one prefetch — the Kitchen coming back
   * after an outage — see {@code BacklogConcurrencyIT} in the AMQP transport.)
   */
  public SubscriptionOptions consuming() {
    return messaging.defaultSubscriptionOptions();
  }

  /**
   * Subscribes {@code group} to the order events, each handled once through the inbox in a
   * transaction of this service's database.
   */
  public Subscription subscribeOrderEvents(
      String group, TransactionalHandler<Contracts.OrderEvent> handler) {
    return messaging.subscribe(
        Contracts.ORDER_EVENTS, group, inbox.handler(group, handler), consuming());
  }

  /** Rows of {@code table} per value of its {@code state} column, e.g. {@code APPROVED=12}. */
  public Map<String, Long> countByState(String table) {
    return inTransaction(
        c -> {
          Map<String, Long> counts = new TreeMap<>();
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery("SELECT state, COUNT(*) FROM " + table + " GROUP BY state")) {
            while (rs.next()) {
              counts.put(rs.getString(1), rs.getLong(2));
            }
          }
          return counts;
        });
  }

  /** Runs {@code work} in one transaction on this service's database. */
  public <T> T inTransaction(Sql<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.apply(c);
        c.commit();
        return result;
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(service + ": transaction failed", e);
    }
  }

  /** Work on a connection inside a transaction. */
  @FunctionalInterface
  public interface Sql<T> {
    T apply(Connection connection) throws Exception;
  }

  @Override
  public void close() {
    outbox.close();
    messaging.close();
    dataSource.close();
  }
}
