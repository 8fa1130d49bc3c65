package dev.parley.internal;

import dev.parley.transport.spi.Redaction;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads a timeout's consequences run on ({@code parley-timeout-N}), apart from the thread
 * that keeps the time: a timeout completes a caller's future, and a stage the caller chained on it
 * without an executor runs there too. One that blocks (a fallback that queries a database, say)
 * then holds up only the timeouts handed over with it, never the timer, so every other call's
 * deadline and every other send's timeout still fire on time. A thread per hand-over when none is
 * idle; idle ones end after 30 s. Used by {@link DeadlineTimer} (call deadlines, request timeouts)
 * and the transports' send timeouts. Internal: not part of Parley's API.
 */
public final class TimeoutThreads {

  private static final Logger log = LoggerFactory.getLogger(TimeoutThreads.class);

  private static final AtomicInteger COUNT = new AtomicInteger();

  private static final Executor THREADS =
      new ThreadPoolExecutor(
          0,
          Integer.MAX_VALUE,
          30,
          TimeUnit.SECONDS,
          new SynchronousQueue<>(),
          r -> {
            Thread t = new Thread(r, "parley-timeout-" + COUNT.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  private TimeoutThreads() {}

  /**
   * Runs {@code consequence} for each of the timeouts due together, in order, on a timeout thread;
   * one that throws is logged and the others still run. On the caller's (the timer's) thread when
   * no thread can be had, as in a process out of native threads, so that the timeouts still fire
   * and the timer lives on.
   */
  public static <T> void runEach(List<T> due, Consumer<? super T> consequence) {
    Runnable work =
        () -> {
          for (T timedOut : due) {
            try {
              consequence.accept(timedOut);
            } catch (RuntimeException | Error e) {
              log.warn("a timeout's action failed", Redaction.throwable(e));
            }
          }
        };
    try {
      THREADS.execute(work);
    } catch (RejectedExecutionException | OutOfMemoryError e) {
      work.run();
    }
  }
}
