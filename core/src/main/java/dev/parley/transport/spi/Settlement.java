package dev.parley.transport.spi;

/**
 * How a consumer tells the transport what became of one {@link Delivery}: exactly one of the three
 * is called, once, from any thread, and returns without waiting for the broker. Calls after the
 * first are ignored, and so are calls for a delivery whose connection was lost meanwhile (the
 * broker redelivers it). Called on a {@link HandlerThread}, a settlement may wait for the client
 * library's own thread (never for the broker); on any other thread it must not wait at all.
 */
public interface Settlement {

  /** The message was dealt with: the broker forgets it. */
  void ack();

  /** The message was not dealt with: the broker delivers it again (to this or another consumer). */
  void requeue();

  /**
   * The message will never be dealt with: the broker drops it, or moves it to its own dead-letter
   * address where it has one. Parley dead-letters through its own channel and does not use this for
   * bad input; it is here for consumers that leave dead-lettering to the broker.
   */
  void reject();

  /**
   * Whether the transport has taken this delivery back: its consumer stopped, or the connection
   * that carried it is gone, so the broker delivers the message again (in order, to whichever
   * consumer then owns it). A consumer that has not started on a withdrawn delivery must not, and
   * settles it with {@link #requeue()}, which then sends nothing to the broker.
   */
  default boolean isWithdrawn() {
    return false;
  }

  /**
   * Sends {@code reply}, the answer to this delivery, on a path that the broker reads in order with
   * this delivery's settlement, where the transport has one: the broker then never applies the
   * settlement without having the reply, so the delivery can be settled as soon as the reply is
   * handed over, without waiting for the broker to confirm it (RabbitMQ: the channel that delivered
   * the request, as the classic AMQP 0-9-1 responder does). The stage completes when the reply is
   * handed over and fails, with a {@link dev.parley.error.TransportException}, when it could not
   * be.
   *
   * <p>Returns null where the transport has no such path, or cannot use it now (the delivery was
   * withdrawn, the broker blocks publishing): the caller then sends the reply as any other message
   * and settles the delivery once the broker accepted it. Call it before settling, at most once.
   */
  default java.util.concurrent.CompletableFuture<Void> replyInOrder(
      Destination.Queue replyTo, dev.parley.message.Message reply) {
    return null;
  }
}
