package dev.parley.jdbc;

import dev.parley.testing.kit.ScratchDatabase;

/** The batching inbox and M8 on H2, the embedded default. */
class BatchingH2IT extends BatchingContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.H2;
  }
}
