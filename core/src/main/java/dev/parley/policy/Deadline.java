package dev.parley.policy;

import dev.parley.error.DeadlineExceededException;
import java.time.Duration;
import java.util.Optional;

/**
 * A point in time by which a call must complete, measured on the monotonic clock ({@link
 * System#nanoTime()}), like grpc-java's {@code Deadline}. A server handling a call with a deadline
 * makes it {@linkplain #current() current} on the handling thread, so a call to the next hop
 * inherits the remaining time. Immutable and thread-safe.
 */
public final class Deadline implements Comparable<Deadline> {

  private static final ThreadLocal<Deadline> CURRENT = new ThreadLocal<>();

  private final long nanos;

  private Deadline(long nanos) {
    this.nanos = nanos;
  }

  /** The deadline {@code timeout} from now. */
  public static Deadline after(Duration timeout) {
    if (timeout.isNegative()) {
      return new Deadline(System.nanoTime());
    }
    return new Deadline(System.nanoTime() + saturatedNanos(timeout));
  }

  /** The deadline of the call being handled on this thread, if any. */
  public static Optional<Deadline> current() {
    return Optional.ofNullable(CURRENT.get());
  }

  /**
   * Makes this deadline {@linkplain #current() current} on this thread until the returned scope is
   * closed, which restores the previous one.
   */
  public Scope attach() {
    Deadline previous = CURRENT.get();
    CURRENT.set(this);
    return () -> {
      // set(null) rather than remove(): the thread's entry stays for its next attach (a handler
      // thread attaches one per message), and a null value holds nothing.
      CURRENT.set(previous);
    };
  }

  /** The time left; zero or negative once expired. */
  public Duration remaining() {
    return Duration.ofNanos(nanos - System.nanoTime());
  }

  /** The time left in whole milliseconds, at least 0. */
  public long remainingMillis() {
    return Math.max(0, (nanos - System.nanoTime()) / 1_000_000);
  }

  public boolean isExpired() {
    return nanos - System.nanoTime() <= 0;
  }

  /** The earlier of this deadline and {@code other}. */
  public Deadline min(Deadline other) {
    return compareTo(other) <= 0 ? this : other;
  }

  /** Throws {@link DeadlineExceededException} if this deadline has passed. */
  public void check() {
    if (isExpired()) {
      throw new DeadlineExceededException(
          "deadline exceeded " + -remaining().toMillis() + " ms ago");
    }
  }

  @Override
  public int compareTo(Deadline other) {
    return Long.signum(nanos - other.nanos);
  }

  @Override
  public String toString() {
    return "Deadline[" + remaining().toMillis() + " ms left]";
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 4;
    }
  }

  /** Restores the previously current deadline when closed. */
  @FunctionalInterface
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }
}
