package dev.parley.policy;

import java.time.Clock;

/**
 * Finagle's and gRPC's retry budget: over a sliding window of {@link #WINDOW_SECONDS} seconds,
 * retries may be at most {@code ratio} of the calls plus {@code minPerSecond} per second. In a
 * total outage the backend therefore sees at most {@code (1 + ratio)} times the calls plus the
 * reserve, however many attempts each call may make. Thread-safe (one private lock, no user code).
 */
final class RetryBudget {

  static final int WINDOW_SECONDS = 10;

  private final double ratio;
  private final int minPerSecond;
  private final Clock clock;
  private final long[] second = new long[WINDOW_SECONDS];
  private final long[] calls = new long[WINDOW_SECONDS];
  private final long[] retries = new long[WINDOW_SECONDS];

  RetryBudget(double ratio, int minPerSecond, Clock clock) {
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.clock = clock;
  }

  /** Records a call that may retry. */
  synchronized void deposit() {
    calls[slot()]++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  synchronized boolean tryWithdraw() {
    int now = slot();
    long windowCalls = 0;
    long windowRetries = 0;
    for (int i = 0; i < WINDOW_SECONDS; i++) {
      windowCalls += calls[i];
      windowRetries += retries[i];
    }
    if (windowRetries + 1 > (long) minPerSecond * WINDOW_SECONDS + ratio * windowCalls) {
      return false;
    }
    retries[now]++;
    return true;
  }

  /** The index of the current second, clearing buckets older than the window. */
  private int slot() {
    long s = Math.floorDiv(clock.millis(), 1000);
    int i = (int) Math.floorMod(s, WINDOW_SECONDS);
    if (second[i] != s) {
      second[i] = s;
      calls[i] = 0;
      retries[i] = 0;
    }
    for (int j = 0; j < WINDOW_SECONDS; j++) {
      if (s - second[j] >= WINDOW_SECONDS) {
        calls[j] = 0;
        retries[j] = 0;
      }
    }
    return i;
  }

  @Override
  public String toString() {
    return Math.round(ratio * 100) + "% of calls + " + minPerSecond + "/s";
  }
}
