package dev.parley.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes the relay when a transaction that wrote outbox rows commits, in this process or any other:
 * PostgreSQL delivers the {@code NOTIFY} a write issues inside its transaction only at commit, to
 * every session that {@code LISTEN}s. Holds one connection of the data source while it runs. Only
 * loaded on PostgreSQL (the driver is an optional dependency).
 */
final class CommitListener implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CommitListener.class);
  private static final int POLL_MILLIS = 500;

  private final DataSource dataSource;
  private final String channel;
  private final Runnable onCommit;
  private final Thread thread;
  private volatile boolean closed;

  CommitListener(DataSource dataSource, String channel, String name, Runnable onCommit) {
    this.dataSource = dataSource;
    this.channel = channel;
    this.onCommit = onCommit;
    this.thread = new Thread(this::run, "parley-outbox-listen-" + name);
    this.thread.setDaemon(true);
  }

  /** The channel the outbox with this table prefix notifies on commit. */
  static String channel(String prefix) {
    return prefix + "outbox";
  }

  CommitListener start() {
    thread.start();
    return this;
  }

  private void run() {
    Duration backoff = Duration.ofMillis(100);
    while (!closed) {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + channel);
        }
        PGConnection pg = c.unwrap(PGConnection.class);
        backoff = Duration.ofMillis(100);
        onCommit.run(); // rows may have committed before we listened
        while (!closed) {
          PGNotification[] notifications = pg.getNotifications(POLL_MILLIS);
          if (notifications != null && notifications.length > 0) {
            onCommit.run();
          }
        }
      } catch (SQLException e) {
        if (closed) {
          return;
        }
        log.warn("outbox listener on {}: {}; retrying in {}", channel, e.toString(), backoff);
        pause(backoff);
        backoff =
            backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0
                ? Duration.ofSeconds(5)
                : backoff.multipliedBy(2);
      }
    }
  }

  private void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis()); // a backoff; close() interrupts it
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(POLL_MILLIS * 4L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
