package dev.parley.transport.spi;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Bounds how often one kind of warning is logged: at most {@code burst} lines per {@code period},
 * then one line per period that says how many were left out. For paths a sender can drive (a poison
 * message, a storm of them, a redelivery), so that no input can flood the log. Thread-safe and
 * lock-free.
 *
 * <p>The bound: {@code burst + 1} lines per period per limiter, whatever arrives.
 */
public final class LogLimiter {

  private final int burst;
  private final long periodNanos;
  private final AtomicLong windowStart = new AtomicLong(System.nanoTime());
  private final AtomicLong inWindow = new AtomicLong();
  private final AtomicLong suppressed = new AtomicLong();

  private LogLimiter(int burst, long periodNanos) {
    this.burst = burst;
    this.periodNanos = periodNanos;
  }

  /** At most {@code burst} lines every {@code periodSeconds} seconds. */
  public static LogLimiter of(int burst, int periodSeconds) {
    if (burst < 1) {
      throw new IllegalArgumentException("burst: " + burst + " (expected: > 0)");
    }
    if (periodSeconds < 1) {
      throw new IllegalArgumentException("periodSeconds: " + periodSeconds + " (expected: > 0)");
    }
    return new LogLimiter(burst, TimeUnit.SECONDS.toNanos(periodSeconds));
  }

  /** Logs at WARN unless this period's burst is used up; the last argument may be a throwable. */
  public void warn(Logger log, String format, Object... args) {
    if (!log.isWarnEnabled()) {
      return;
    }
    long now = System.nanoTime();
    long start = windowStart.get();
    if (now - start >= periodNanos && windowStart.compareAndSet(start, now)) {
      inWindow.set(0);
      long left = suppressed.getAndSet(0);
      if (left > 0) {
        log.warn("{} similar warning(s) left out in the last period", left);
      }
    }
    if (inWindow.incrementAndGet() <= burst) {
      log.warn(format, redacted(args));
    } else {
      suppressed.incrementAndGet();
    }
  }

  /** Warnings left out since the last summary line. */
  public long suppressed() {
    return suppressed.get();
  }

  /** The arguments with URI passwords masked (S7): strings through {@link Redaction#text}. */
  static Object[] redacted(Object[] args) {
    Object[] out = args.clone();
    for (int i = 0; i < out.length; i++) {
      if (out[i] instanceof String text) {
        out[i] = Redaction.text(text);
      } else if (out[i] instanceof Throwable t) {
        out[i] = Redaction.throwable(t);
      }
    }
    return out;
  }
}
