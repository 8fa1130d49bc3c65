package dev.parley.transport.spi;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Counts a consumer's deliveries that are handed out and not settled, so that closing can wait, a
 * bounded time, for them to drain. Transports share it. Thread-safe.
 */
public final class InFlight {

  /**
   * Guards only the wait for idleness: counting is one atomic step, so the transport's thread that
   * hands a delivery out and the handler threads that settle them never queue on a lock for it.
   */
  private final ReentrantLock lock = new ReentrantLock();

  private final Condition idle = lock.newCondition();
  private final AtomicInteger count = new AtomicInteger();

  /** How often {@link #awaitIdle(Duration, BooleanSupplier)} looks at the connection. */
  private static final long CONNECTED_POLL_NANOS = 20_000_000L;

  /** A delivery was handed out. */
  public void begin() {
    count.incrementAndGet();
  }

  /** A delivery was settled (or dropped with its connection). */
  public void end() {
    int left = count.updateAndGet(c -> c > 0 ? c - 1 : 0);
    if (left == 0) {
      // awaitIdle checks the count and waits under the lock, so this signal cannot fall between
      lock.lock();
      try {
        idle.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Deliveries handed out and not settled. */
  public int count() {
    return count.get();
  }

  /**
   * Waits until no delivery is outstanding, at most {@code timeout}, and only while {@code
   * connected} holds: once the connection is gone no settlement can reach the broker, which gives
   * every unsettled delivery back by itself, so a close does not wait out its bound for them.
   *
   * @return whether every delivery was settled
   */
  public boolean awaitIdle(Duration timeout, BooleanSupplier connected) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (count.get() > 0 && connected.getAsBoolean()) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || Thread.currentThread().isInterrupted()) {
        return false;
      }
      awaitIdle(Duration.ofNanos(Math.min(left, CONNECTED_POLL_NANOS)));
    }
    return count.get() == 0;
  }

  /**
   * Waits until no delivery is outstanding, at most {@code timeout}.
   *
   * @return whether every delivery was settled in time
   */
  public boolean awaitIdle(Duration timeout) {
    long left = timeout.toNanos();
    lock.lock();
    try {
      while (count.get() > 0) {
        if (left <= 0) {
          return false;
        }
        left = idle.awaitNanos(left);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return count.get() == 0;
    } finally {
      lock.unlock();
    }
  }

  /**
   * A settlement that counts itself out once, whichever outcome comes first, and passes the first
   * outcome on to {@code delegate}; later calls are ignored.
   */
  public Settlement track(Settlement delegate) {
    begin();
    return new Settlement() {
      private final java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();

      @Override
      public void ack() {
        if (done.compareAndSet(false, true)) {
          try {
            delegate.ack();
          } finally {
            end();
          }
        }
      }

      @Override
      public void requeue() {
        if (done.compareAndSet(false, true)) {
          try {
            delegate.requeue();
          } finally {
            end();
          }
        }
      }

      @Override
      public void reject() {
        if (done.compareAndSet(false, true)) {
          try {
            delegate.reject();
          } finally {
            end();
          }
        }
      }

      @Override
      public boolean isWithdrawn() {
        return delegate.isWithdrawn();
      }

      @Override
      public java.util.concurrent.CompletableFuture<Void> replyInOrder(
          Destination.Queue replyTo, dev.parley.message.Message reply) {
        return done.get() ? null : delegate.replyInOrder(replyTo, reply);
      }
    };
  }

  @Override
  public String toString() {
    return "InFlight[" + count() + "]";
  }
}
