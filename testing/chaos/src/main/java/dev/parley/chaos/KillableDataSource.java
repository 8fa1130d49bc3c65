package dev.parley.chaos;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A killed relay's view of the database: after {@link #kill()} no connection can be had, so the
 * relay cannot give up its lease on the way down, as a dead process could not.
 */
final class KillableDataSource implements DataSource {

  private final DataSource delegate;
  private volatile boolean killed;

  KillableDataSource(DataSource delegate) {
    this.delegate = delegate;
  }

  void kill() {
    killed = true;
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (killed) {
      throw new SQLException("this relay is dead", "08001");
    }
    return delegate.getConnection();
  }

  @Override
  public Connection getConnection(String user, String password) throws SQLException {
    if (killed) {
      throw new SQLException("this relay is dead", "08001");
    }
    return delegate.getConnection(user, password);
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return delegate.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    delegate.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    delegate.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return delegate.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return delegate.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return delegate.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return delegate.isWrapperFor(iface);
  }
}
