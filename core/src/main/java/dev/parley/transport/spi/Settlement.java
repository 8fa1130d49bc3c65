package dev.parley.transport.spi;

/**
 * How a consumer tells the transport what became of one {@link Delivery}: exactly one of the three
 * is called, once, from any thread, and returns without waiting for the broker. Calls after the
 * first are ignored, and so are calls for a delivery whose connection was lost meanwhile (the
 * broker redelivers it).
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
}
