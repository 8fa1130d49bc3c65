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
}
