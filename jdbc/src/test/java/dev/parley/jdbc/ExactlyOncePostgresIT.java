package dev.parley.jdbc;

import dev.parley.testing.kit.ScratchDatabase;

/** Outbox and inbox on the machine's PostgreSQL, in a schema of their own. */
class ExactlyOncePostgresIT extends ExactlyOnceContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.POSTGRESQL;
  }
}
