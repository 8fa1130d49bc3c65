package dev.parley.jdbc;

/** Outbox and inbox on the machine's PostgreSQL, in a schema of their own. */
class ExactlyOncePostgresIT extends ExactlyOnceContract {
  @Override
  Database database() {
    return Database.POSTGRESQL;
  }
}
