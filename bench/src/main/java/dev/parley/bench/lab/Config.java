package dev.parley.bench.lab;

/**
 * The sizes of a lab run. Quick mode keeps the whole run near three minutes on 2 vCPUs, with the
 * same pairs and repetitions but short loads: its figures are noisier, never different in kind.
 */
record Config(
    String mode,
    int reps,
    int calls,
    int window,
    int oneInFlightCalls,
    double openLoopSeconds,
    int events,
    int eventWindow,
    int transactions,
    int codecOps,
    double availabilityBefore,
    double availabilityDown,
    double availabilityAfter,
    double availabilityRate,
    double warmUpSeconds) {

  static Config quick() {
    return new Config("quick", 5, 600, 64, 100, 0.25, 600, 256, 120, 10_000, 2, 10, 4, 100, 1);
  }

  static Config full() {
    return new Config(
        "full", 7, 5_000, 64, 500, 1.5, 5_000, 256, 1_000, 100_000, 5, 10, 10, 200, 10);
  }
}
