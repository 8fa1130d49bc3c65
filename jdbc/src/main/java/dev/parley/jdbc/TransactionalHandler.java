package dev.parley.jdbc;

import dev.parley.messaging.MessageContext;
import java.sql.Connection;

/**
 * A message handler that works in a database transaction: {@code connection} has auto-commit off;
 * the {@link Inbox} commits after the handler returns (or rolls back when it throws). Do not commit
 * or close it yourself.
 */
@FunctionalInterface
public interface TransactionalHandler<T> {

  void handle(T payload, MessageContext context, Connection connection) throws Exception;
}
