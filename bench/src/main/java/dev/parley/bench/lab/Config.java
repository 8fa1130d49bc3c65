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
    WarmUp warmUp) {

  /**
   * How long a throughput pair runs, raw and Parley in turn, before anything counts: each side at
   * least {@code seconds} and at least {@code calls} calls, unless a side has already run for
   * {@code maxSeconds} (a pair of a few hundred calls per second, where the JIT is not what limits
   * it, would otherwise warm up for minutes).
   */
  record WarmUp(double seconds, long calls, double maxSeconds) {}

  static Config quick() {
    return new Config(
        "quick", 5, 600, 64, 100, 0.25, 600, 256, 120, 10_000, 2, 10, 4, 100, new WarmUp(1, 0, 1));
  }

  static Config full() {
    return new Config(
        "full",
        7,
        5_000,
        64,
        500,
        1.5,
        5_000,
        256,
        1_000,
        100_000,
        5,
        10,
        10,
        200,
        new WarmUp(10, 100_000, 30));
  }
}
