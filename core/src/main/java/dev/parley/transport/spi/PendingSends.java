package dev.parley.transport.spi;

import dev.parley.error.TransportException;
import dev.parley.internal.TimeoutThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;

/**
 * The send timeout every transport shares: sends waiting for the broker's answer (a publisher
 * confirm, a RECEIPT, an AMQP settlement), by a sequence number that grows with time, each failed
 * with {@link TransportException} {@link Transport#SEND_TIMEOUT} when its deadline passes first.
 *
 * <p>One timer task at a time, at the earliest deadline, however many sends wait: a send answered
 * in time costs an insert and a removal in an ordered map, no timer task of its own and no thread
 * wake-up. Under a steady load the timer wakes about once per send timeout (not every few
 * milliseconds, as a ticking timer or a sweeper would). Sends are expected to share one timeout per
 * map, so the earliest deadline is the oldest send's; one given a shorter timeout than those before
 * it fails no earlier than they would.
 *
 * <p>The timer is one daemon thread per JVM ({@code parley-send-timeouts}), apart from the one that
 * times call deadlines. The transport keeps its own bookkeeping (a window slot, a confirm's order)
 * and says how an overdue send fails, through the {@code fail} callback given here; the callbacks
 * of the sends overdue together run on one of the {@link TimeoutThreads}, never on the timer's: a
 * callback completes a caller's future, and what the caller chained on it without an executor runs
 * with it, so one that blocks holds up no other send's timeout (nor any call's deadline).
 * Thread-safe.
 *
 * @param <S> what the transport keeps of one send
 */
public final class PendingSends<S extends PendingSends.Send> {

  /** What a transport keeps of one send until the broker answers: its future and its deadline. */
  public abstract static class Send {
    private final CompletableFuture<Void> future = new CompletableFuture<>();
    final long deadline;

    /**
     * A send that fails with {@link Transport#SEND_TIMEOUT} unless answered within {@code timeout}.
     */
    protected Send(Duration timeout) {
      this.deadline = System.nanoTime() + timeout.toNanos();
    }

    /** Completes when the broker answers (or the transport fails the send). */
    public final CompletableFuture<Void> future() {
      return future;
    }
  }

  private final ConcurrentSkipListMap<Long, S> sends = new ConcurrentSkipListMap<>();
  private final AtomicBoolean armed = new AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicInteger count =
      new java.util.concurrent.atomic.AtomicInteger();
  private final String what;
  private final BiConsumer<S, TransportException> fail;

  /**
   * @param what what did not come in time, for the failure's message ("no confirm from RabbitMQ")
   * @param fail fails one overdue send, already removed: the transport frees what it held for it
   *     and completes its future exceptionally with the given exception
   */
  public PendingSends(String what, BiConsumer<S, TransportException> fail) {
    this.what = what;
    this.fail = fail;
  }

  /** Adds a send under {@code seq}, which must be greater than every sequence number before it. */
  public void put(long seq, S send) {
    if (sends.put(seq, send) == null) {
      count.incrementAndGet();
    }
    arm();
  }

  /** Removes and returns the send under {@code seq}; null when it is not (or no longer) pending. */
  public S remove(long seq) {
    S s = sends.remove(seq);
    if (s != null) {
      count.decrementAndGet();
    }
    return s;
  }

  /** Removes and returns the sends up to and including {@code seq}, oldest first. */
  public List<S> removeUpTo(long seq) {
    List<S> removed = new ArrayList<>();
    for (Long key : sends.headMap(seq, true).keySet()) {
      S s = remove(key);
      if (s != null) {
        removed.add(s);
      }
    }
    return removed;
  }

  /** The pending sends' sequence numbers, oldest first (a live view). */
  public Set<Long> sequences() {
    return sends.keySet();
  }

  /** The pending sends, oldest first (a live view). */
  public Collection<S> sends() {
    return sends.values();
  }

  /** The pending sends by sequence number, oldest first (a live, read-only view). */
  public Set<Map.Entry<Long, S>> entries() {
    return java.util.Collections.unmodifiableMap(sends).entrySet();
  }

  /**
   * Waits up to {@code timeout} until every send pending now has been answered or failed (a
   * transport's close: what it sent gets the broker's answer before it hangs up). Sends made after
   * the call are not waited for; those still unanswered at the end are the caller's to fail.
   */
  public void awaitAnswered(Duration timeout) {
    CompletableFuture<?>[] waiting =
        sends.values().stream().map(Send::future).toArray(CompletableFuture[]::new);
    if (waiting.length == 0) {
      return;
    }
    try {
      CompletableFuture.allOf(waiting).get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      // all ended, some failed: each future says how
    } catch (java.util.concurrent.TimeoutException e) {
      // what is still unanswered is failed by the caller
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** How many sends wait (a counter: no walk over the sends). */
  public int size() {
    return count.get();
  }

  /**
   * Schedules the one timer task at the oldest send's deadline unless one is scheduled. The task
   * disarms, fails what is overdue, then arms again for what is left: a send added meanwhile either
   * found the task armed (and the task, disarming after its add, sees it) or arms it itself.
   */
  private void arm() {
    if (armed.get()) {
      return; // the common case under load: no lookup, no allocation
    }
    Map.Entry<Long, S> oldest = sends.firstEntry();
    if (oldest == null || !armed.compareAndSet(false, true)) {
      return;
    }
    Timer.THREAD.schedule(
        this::expire,
        Math.max(0, oldest.getValue().deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
  }

  /** The one timer thread of every transport's send timeouts, started on first use. */
  private static final class Timer {
    static final ScheduledThreadPoolExecutor THREAD =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "parley-send-timeouts");
              t.setDaemon(true);
              return t;
            });
  }

  private void expire() {
    armed.set(false);
    long now = System.nanoTime();
    List<S> overdue = null;
    try {
      for (Map.Entry<Long, S> e : sends.entrySet()) {
        if (e.getValue().deadline - now > 0) {
          break; // sends share a timeout: those after it are not overdue either
        }
        if (sends.remove(e.getKey(), e.getValue())) {
          count.decrementAndGet();
          if (overdue == null) {
            overdue = new ArrayList<>();
          }
          overdue.add(e.getValue());
        }
      }
    } finally {
      if (overdue != null) {
        TimeoutThreads.runEach(
            overdue,
            send ->
                fail.accept(
                    send, new TransportException(Transport.SEND_TIMEOUT, what + " in time", null)));
      }
      arm();
    }
  }
}
