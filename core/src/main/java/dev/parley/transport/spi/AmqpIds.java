package dev.parley.transport.spi;

import java.util.Locale;

/**
 * AMQP 1.0 message and correlation ids as Parley reads them (docs/wire.md §1), from the text Qpid
 * JMS gives them and Artemis renders them with for its STOMP consumers: {@code ID:} plus a type
 * prefix. A string id is the string itself, a uuid its canonical text, a ulong its decimal digits,
 * a binary id its lower-case hex digits; any other text stays as it is (after {@code ID:}).
 */
public final class AmqpIds {

  private static final String[] TYPE_PREFIXES = {
    "AMQP_NO_PREFIX:", "AMQP_STRING:", "AMQP_UUID:", "AMQP_ULONG:", "AMQP_BINARY:"
  };

  private AmqpIds() {}

  /** The id {@code rendered} stands for. */
  public static String text(String rendered) {
    String id = rendered.startsWith("ID:") ? rendered.substring(3) : rendered;
    for (String prefix : TYPE_PREFIXES) {
      if (id.startsWith(prefix)) {
        String rest = id.substring(prefix.length());
        return prefix.equals("AMQP_BINARY:") ? rest.toLowerCase(Locale.ROOT) : rest;
      }
    }
    return id;
  }
}
