package dev.parley.transport.rabbitmq;

import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.util.Optional;

/**
 * Discovers the RabbitMQ transport for {@code rabbitmq://} and {@code rabbitmqs://} URIs ({@code
 * amqp://} belongs to the AMQP 1.0 transport). With no URI it connects to RabbitMQ's defaults,
 * {@code localhost:5672} as guest.
 */
public final class RabbitTransportProvider implements TransportProvider {

  static final URI DEFAULT = URI.create("amqp://guest:guest@localhost:5672/");

  @Override
  public boolean supports(URI brokerUri) {
    return "rabbitmq".equals(brokerUri.getScheme()) || "rabbitmqs".equals(brokerUri.getScheme());
  }

  @Override
  public Transport create(Optional<URI> brokerUri) {
    return RabbitTransport.builder(brokerUri.orElse(DEFAULT)).build();
  }
}
