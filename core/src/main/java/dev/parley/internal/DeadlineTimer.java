package dev.parley.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fires deadlines on one daemon thread: scheduling is a lock-free enqueue and cancelling sets a
 * flag, so a call that finishes in time costs no thread wake-up (a {@code
 * ScheduledThreadPoolExecutor} signals its thread on every schedule and cancel: tens of
 * microseconds per call on a small machine).
 *
 * <p>The thread sleeps until the earliest deadline it holds, in steps of at least {@link
 * #TICK_NANOS} and at most {@link #MAX_SLEEP_NANOS} (so cancelled deadlines are dropped at least
 * that often), and not at all while it holds none. A deadline scheduled to fall more than a tick
 * before the thread's planned wake-up wakes it; any other deadline waits for it. Deadlines fire up
 * to one tick late. (It used to tick every {@link #TICK_NANOS} while it held anything: 500 wake-ups
 * a second under load, for deadlines mostly seconds away and cancelled long before.)
 *
 * <p>Shared by the policy pipeline (call deadlines) and messaging (request timeouts). Internal: not
 * part of Parley's API.
 */
public final class DeadlineTimer {

  public static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  /** The longest the thread sleeps while it holds deadlines. */
  public static final long MAX_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

  public static final DeadlineTimer SHARED = new DeadlineTimer("parley-deadline-timer");

  private static final Logger log = LoggerFactory.getLogger(DeadlineTimer.class);

  /** Tasks scheduled since the thread last looked, newest first: each task is its own node. */
  private final AtomicReference<Task> added = new AtomicReference<>();

  private final List<Task> live = new ArrayList<>();
  private final Thread thread;

  /** Whether the thread sleeps with no deadline at all; the next schedule wakes it. */
  private volatile boolean idle;

  /** When the sleeping thread plans to look again ({@link System#nanoTime()}), unless idle. */
  private volatile long wakeAt;

  DeadlineTimer(String threadName) {
    thread = new Thread(this::run, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Runs {@code action} on the timer thread once {@code delayNanos} have passed, unless cancelled.
   */
  public Task schedule(Runnable action, long delayNanos) {
    Task task = new Task(action, System.nanoTime() + delayNanos);
    Task head;
    do {
      head = added.get();
      task.next = head;
    } while (!added.compareAndSet(head, task));
    // The thread publishes its plan (idle, wakeAt) before it looks at `added` a last time and
    // sleeps: either it sees this task there, or this sees its plan.
    if (idle || task.dueNanos - (wakeAt - TICK_NANOS) < 0) {
      LockSupport.unpark(thread);
    }
    return task;
  }

  /** When the thread plans to look at its deadlines again; for tests. */
  long plannedWakeNanos() {
    return idle ? Long.MAX_VALUE : wakeAt;
  }

  private void run() {
    while (true) {
      for (Task t = added.getAndSet(null); t != null; ) {
        Task next = t.next;
        t.next = null;
        live.add(t);
        t = next;
      }
      long now = System.nanoTime();
      long earliest = 0;
      boolean any = false;
      // swap-remove: order does not matter, each task is looked at once per pass
      for (int i = live.size() - 1; i >= 0; i--) {
        Task task = live.get(i);
        if (task.cancelled || now - task.dueNanos >= 0) {
          int last = live.size() - 1;
          live.set(i, live.get(last));
          live.remove(last);
          if (!task.cancelled) {
            fire(task);
          }
        } else if (!any || task.dueNanos - earliest < 0) {
          earliest = task.dueNanos;
          any = true;
        }
      }
      long sleep =
          any ? Math.min(MAX_SLEEP_NANOS, Math.max(TICK_NANOS, earliest - System.nanoTime())) : 0;
      wakeAt = System.nanoTime() + sleep;
      idle = !any;
      if (added.get() == null) {
        if (any) {
          LockSupport.parkNanos(this, sleep);
        } else {
          LockSupport.park(this); // nothing to time: no wake-up until a deadline is scheduled
        }
      }
      idle = false;
    }
  }

  private static void fire(Task task) {
    try {
      task.action.run();
    } catch (RuntimeException | Error e) {
      log.warn("a deadline action failed", dev.parley.transport.spi.Redaction.throwable(e));
    }
  }

  /** A scheduled deadline; {@link #cancel()} when the call finished first. */
  public static final class Task {
    private final Runnable action;
    private final long dueNanos;
    private volatile boolean cancelled;
    private Task next;

    private Task(Runnable action, long dueNanos) {
      this.action = action;
      this.dueNanos = dueNanos;
    }

    public void cancel() {
      cancelled = true;
    }
  }
}
