package dev.parley.messaging;

import java.util.concurrent.atomic.LongAdder;

/** The counters behind {@link MessagingMetrics}. Thread-safe. */
final class Counters {
  final LongAdder sent = new LongAdder();
  final LongAdder received = new LongAdder();
  final LongAdder handled = new LongAdder();
  final LongAdder retried = new LongAdder();
  final LongAdder redelivered = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder expired = new LongAdder();
  final LongAdder lateReplies = new LongAdder();
  final LongAdder forgedReplies = new LongAdder();
  final LongAdder duplicates = new LongAdder();

  MessagingMetrics snapshot(int pendingRequests) {
    return new MessagingMetrics(
        sent.sum(),
        received.sum(),
        handled.sum(),
        retried.sum(),
        redelivered.sum(),
        deadLettered.sum(),
        expired.sum(),
        lateReplies.sum(),
        forgedReplies.sum(),
        duplicates.sum(),
        pendingRequests);
  }
}
