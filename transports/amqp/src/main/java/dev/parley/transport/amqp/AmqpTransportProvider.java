package dev.parley.transport.amqp;

import dev.parley.transport.spi.LocalBroker;
import dev.parley.transport.spi.LocalBrokerProvider;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.util.Iterator;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Discovers the AMQP transport. With no broker URI it acquires the local broker ({@code
 * parley-broker-embedded}) and connects to it.
 */
public final class AmqpTransportProvider implements TransportProvider {

  @Override
  public boolean supports(URI brokerUri) {
    return "amqp".equals(brokerUri.getScheme()) || "amqps".equals(brokerUri.getScheme());
  }

  @Override
  public Transport create(Optional<URI> brokerUri) {
    if (brokerUri.isPresent()) {
      return AmqpTransport.builder(brokerUri.get()).build();
    }
    Iterator<LocalBrokerProvider> providers =
        ServiceLoader.load(LocalBrokerProvider.class, AmqpTransportProvider.class.getClassLoader())
            .iterator();
    if (!providers.hasNext()) {
      throw new IllegalStateException(
          "No broker URL configured (PARLEY_BROKER_URL) and no embedded broker on the class path: "
              + "add dev.parley:parley-broker-embedded or configure a broker");
    }
    LocalBroker broker = providers.next().acquire();
    try {
      return AmqpTransport.builder(broker.amqpUri()).onClose(broker).build();
    } catch (RuntimeException e) {
      broker.close();
      throw e;
    }
  }
}
