package dev.parley.transport.spi;

import dev.parley.error.BadInputException;

/**
 * Header names a broker acts on, which a message's own headers cannot use there: a send with one
 * fails with a {@link BadInputException} ({@value #CODE}) before anything is written, rather than
 * have the broker refuse the message by closing what it came on.
 */
public final class ReservedHeaders {

  /** The error code of a send refused for a header the broker acts on. */
  public static final String CODE = "parley.header.reserved";

  private ReservedHeaders() {}

  /**
   * Refuses {@code CC} and {@code BCC} (exactly so written) on RabbitMQ: it routes a message also
   * to the routing keys they list (sender-selected distribution) and refuses one whose value is
   * text, closing the publishing channel over AMQP 0-9-1 — failing every send in flight on it —
   * and, over its STOMP plugin, the connection with every subscription on it.
   *
   * @throws BadInputException for those two names
   */
  public static void checkRabbitMq(String name) {
    if (name.equals("CC") || name.equals("BCC")) {
      throw new BadInputException(
          CODE,
          "a header named '"
              + name
              + "': RabbitMQ routes a message by it (sender-selected distribution) and refuses it"
              + " as text; not sent (give the header another name)");
    }
  }
}
