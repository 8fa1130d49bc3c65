package dev.parley.transport.spi;

import dev.parley.error.TransportException;
import dev.parley.internal.DeadlineTimer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The send timeout every transport shares: a send the broker has not accepted within its timeout
 * fails with {@link TransportException} {@link Transport#SEND_TIMEOUT}. The timeouts go on Parley's
 * one ticking timer (they fire up to 2 ms late), where scheduling is a lock-free enqueue and a send
 * that completes in time only sets a flag — unlike {@link CompletableFuture#orTimeout}, whose
 * scheduled executor wakes its thread for every send and keeps each cancelled timeout queued until
 * it would have fired.
 */
public final class SendTimeouts {

  private SendTimeouts() {}

  /**
   * Fails {@code send} with {@link Transport#SEND_TIMEOUT} unless it completes within {@code
   * timeout}; returns {@code send}.
   *
   * @param what what was not accepted in time, for the message ("the broker did not accept the
   *     message")
   */
  public static <T> CompletableFuture<T> within(
      CompletableFuture<T> send, Duration timeout, String what) {
    if (send.isDone()) {
      return send;
    }
    DeadlineTimer.Task task =
        DeadlineTimer.SHARED.schedule(
            () ->
                send.completeExceptionally(
                    new TransportException(
                        Transport.SEND_TIMEOUT, what + " within " + timeout, null)),
            timeout.toNanos());
    send.whenComplete((v, e) -> task.cancel());
    return send;
  }
}
