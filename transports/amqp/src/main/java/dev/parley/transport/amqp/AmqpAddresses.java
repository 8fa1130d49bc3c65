package dev.parley.transport.amqp;

import dev.parley.transport.spi.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Session;

/**
 * Maps Parley destinations onto AMQP 1.0 node addresses and capabilities on Artemis ({@code
 * docs/wire.md}):
 *
 * <ul>
 *   <li>event channel {@code c}: address {@code c}, multicast (capability {@code topic});
 *   <li>group {@code g} of {@code c}: queue {@code c.g} on address {@code c}, reached through the
 *       fully qualified name {@code c::c.g} with capability {@code topic};
 *   <li>queue {@code q} (command, reply, dead-letter): address {@code q}, anycast (capability
 *       {@code queue}).
 * </ul>
 */
final class AmqpAddresses {

  private AmqpAddresses() {}

  static String address(Destination destination) {
    if (destination instanceof Destination.GroupQueue g) {
      return g.channel() + "::" + g.queueName();
    }
    return destination.channel();
  }

  static jakarta.jms.Destination forSend(Session session, Destination destination)
      throws JMSException {
    return destination instanceof Destination.Queue
        ? session.createQueue(address(destination))
        : session.createTopic(address(destination));
  }

  /**
   * Whether {@code queue} is named as Artemis names a temporary queue: a version-1 (time-based)
   * UUID in lower-case canonical form, {@code xxxxxxxx-xxxx-1xxx-xxxx-xxxxxxxxxxxx}.
   */
  static boolean isTemporaryQueueName(String queue) {
    if (queue.length() != 36 || queue.charAt(14) != '1') {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = queue.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
