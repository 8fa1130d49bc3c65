package dev.parley.jdbc;

import dev.parley.testing.kit.ScratchDatabase;

/** M3, M4 and M7 on H2, the embedded default. */
class CrashPointsH2IT extends CrashPointsContract {
  @Override
  ScratchDatabase database() {
    return ScratchDatabase.H2;
  }
}
