package dev.parley.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Times deadlines on one daemon thread that ticks every {@link #TICK_NANOS}: scheduling is a
 * lock-free enqueue and cancelling sets a flag, so a call that finishes in time costs no thread
 * wake-up (a {@code ScheduledThreadPoolExecutor} signals its thread on every schedule and cancel:
 * tens of microseconds per call on a small machine). Deadlines fire up to one tick late.
 *
 * <p>The actions of one tick's due deadlines run together on one of the {@link TimeoutThreads},
 * never on the ticking thread: an action completes a caller's future, and what the caller chained
 * on it without an executor runs with it. One that blocks holds up only the deadlines due in the
 * same tick, not every later deadline of the process.
 *
 * <p>Shared by the policy pipeline (call deadlines) and messaging (request timeouts). Internal: not
 * part of Parley's API.
 */
public final class DeadlineTimer {

  public static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  public static final DeadlineTimer SHARED = new DeadlineTimer();

  /** Tasks scheduled since the last tick, newest first: each task is its own list node. */
  private final AtomicReference<Task> added = new AtomicReference<>();

  private final List<Task> live = new ArrayList<>();
  private final Thread thread;

  /** Set while the timer sleeps with nothing to time; the next schedule wakes it. */
  private volatile boolean idle;

  private DeadlineTimer() {
    thread = new Thread(this::run, "parley-deadline-timer");
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
    if (idle) {
      idle = false;
      LockSupport.unpark(thread);
    }
    return task;
  }

  private void run() {
    while (true) {
      if (live.isEmpty() && added.get() == null) {
        idle = true;
        if (added.get() == null) {
          LockSupport.park(this); // nothing to time: no ticking until a deadline is scheduled
        }
        idle = false;
      }
      LockSupport.parkNanos(TICK_NANOS);
      for (Task t = added.getAndSet(null); t != null; ) {
        Task next = t.next;
        t.next = null;
        live.add(t);
        t = next;
      }
      long now = System.nanoTime();
      List<Task> due = null;
      // swap-remove: order does not matter, each task is looked at once per tick
      for (int i = live.size() - 1; i >= 0; i--) {
        Task task = live.get(i);
        if (task.cancelled || now - task.dueNanos >= 0) {
          int last = live.size() - 1;
          live.set(i, live.get(last));
          live.remove(last);
          if (!task.cancelled) {
            if (due == null) {
              due = new ArrayList<>();
            }
            due.add(task);
          }
        }
      }
      if (due != null) {
        TimeoutThreads.runEach(due, DeadlineTimer::fire);
      }
    }
  }

  private static void fire(Task task) {
    if (!task.cancelled) { // else cancelled since its tick
      task.action.run();
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
