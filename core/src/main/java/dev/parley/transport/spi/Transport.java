package dev.parley.transport.spi;

import dev.parley.message.Message;
import java.util.concurrent.CompletableFuture;

/**
 * The broker adapter, kept small and dumb: it moves {@link Message}s to and from {@link
 * Destination}s. Retries, dead-lettering, deadlines and deduplication belong to the handler
 * pipeline in {@code dev.parley.messaging}, which is the same for every transport.
 *
 * <p>Contract (checked by the transport TCK in {@code parley-testing-tck}):
 *
 * <ul>
 *   <li>{@link #send} completes only when the broker has durably accepted the message; it fails
 *       with {@link dev.parley.error.TransportException} within the configured send timeout when
 *       the broker is unreachable, and never hangs;
 *   <li>the transport reconnects by itself and restores its subscriptions;
 *   <li>{@link #subscribe} pushes deliveries to the {@link DeliveryHandler} on the transport's own
 *       dispatch thread without waiting for earlier ones to be settled (at most {@code prefetch}
 *       unsettled per consumer) and settles each as its {@link Settlement} says, from whatever
 *       thread that is called on; no transport blocks a thread on a delivery's handling ({@code
 *       join()}/{@code get()});
 *   <li>messages with the same {@link dev.parley.message.Headers#PARTITION_KEY} sent to a
 *       destination are delivered in order to one consumer at a time;
 *   <li>{@link #close} releases every thread, connection and subscription; it is idempotent; sends
 *       in flight get the broker's answer first (waiting up to the transport's close timeout; those
 *       still unanswered then fail with {@link #CLOSED}); a send after it fails its future with
 *       {@link #CLOSED};
 * </ul>
 *
 * Implementations are thread-safe.
 */
public interface Transport extends AutoCloseable {

  /** The error code of every send made after {@link #close()}, on every transport. */
  String CLOSED = "parley.transport.closed";

  /**
   * The error code of a send the broker did not accept within the transport's send timeout, on
   * every transport ({@link PendingSends}).
   */
  String SEND_TIMEOUT = "parley.transport.send_timeout";

  /**
   * What {@link #send} returns after {@link #close()}: a future failed with a {@link
   * dev.parley.error.TransportException} coded {@link #CLOSED} (never a throw).
   */
  static CompletableFuture<Void> closedFailure() {
    return CompletableFuture.failedFuture(
        new dev.parley.error.TransportException(CLOSED, "the transport is closed", null));
  }

  /** A short name for logs and metrics, e.g. {@code amqp}. */
  String name();

  /**
   * Sends a message, durably.
   *
   * @return a future completed when the broker has accepted the message, or completed exceptionally
   *     with a {@link dev.parley.error.TransportException}
   */
  CompletableFuture<Void> send(Destination destination, Message message, SendOptions options);

  /**
   * Starts consuming from a {@link Destination.Queue} or {@link Destination.GroupQueue}, creating
   * it if needed. Each consumer pushes its deliveries to {@code handler} in the broker's order,
   * with up to {@link ConsumerSettings#prefetch()} of them unsettled at once.
   */
  TransportSubscription subscribe(
      Destination source, ConsumerSettings settings, DeliveryHandler handler);

  /**
   * The address a client of this broker sends to in order to reach {@code destination}, as {@code
   * docs/wire.md} gives it: a dead letter names its original queue by it, so that replaying a dead
   * letter is sending it back there. By default the queue's name ({@code <channel>.<group>} for a
   * group queue).
   */
  default String address(Destination destination) {
    return destination instanceof Destination.GroupQueue g ? g.queueName() : destination.channel();
  }

  /**
   * Whether {@code queue} is the broker's own reply mechanism, which a responder may answer without
   * an allow-list entry (RELIABILITY.md S6): an address only a caller can have, such as RabbitMQ's
   * direct reply-to or a server-named queue — never a name a sender could give to another service's
   * queue. By default none.
   */
  default boolean isNativeReplyAddress(String queue) {
    return false;
  }

  /** Closes connections, consumers and threads. Idempotent. */
  @Override
  void close();
}
