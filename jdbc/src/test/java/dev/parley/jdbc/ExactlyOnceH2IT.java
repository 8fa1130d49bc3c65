package dev.parley.jdbc;

/** Outbox and inbox on H2, the embedded default. */
class ExactlyOnceH2IT extends ExactlyOnceContract {
  @Override
  Database database() {
    return Database.H2;
  }
}
