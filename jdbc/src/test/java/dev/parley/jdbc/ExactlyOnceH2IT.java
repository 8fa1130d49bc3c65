package dev.parley.jdbc;

import dev.parley.testing.kit.ScratchDatabase;

/** Outbox and inbox on H2, the embedded default. */
class ExactlyOnceH2IT extends ExactlyOnceContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.H2;
  }
}
