package dev.parley.transport.spi;

/**
 * A thread of a subscription's handler pool: the threads blocking handlers run on, made to wait (on
 * the handler's own calls, on a client library). A transport whose client settles or sends with a
 * blocking call (Qpid JMS waits for its provider thread in every acknowledge and send) may make
 * that call on such a thread itself, where elsewhere it hands the call to a thread of its own: one
 * thread switch fewer per delivery. Every other thread — a client library's I/O or dispatch thread,
 * one an asynchronous handler completes on — must not wait, and is never a handler thread.
 */
public final class HandlerThread extends Thread {

  /** A daemon thread running {@code task}. */
  public HandlerThread(Runnable task, String name) {
    super(task, name);
    setDaemon(true);
  }

  /** Whether the calling thread is a handler pool's, where waiting is allowed. */
  public static boolean isCurrent() {
    return Thread.currentThread() instanceof HandlerThread;
  }
}
