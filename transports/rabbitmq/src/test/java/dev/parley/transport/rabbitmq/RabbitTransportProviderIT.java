package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The provider is found by {@link ServiceLoader} and its zero-configuration default connects. */
class RabbitTransportProviderIT {

  @Test
  void theDefaultReachesTheLocalBrokersDefaultVhost() {
    TransportProvider provider =
        ServiceLoader.load(TransportProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.supports(URI.create("rabbitmq://localhost")))
            .findFirst()
            .orElseThrow();

    try (Transport t = provider.create(Optional.empty())) {
      assertThat(((RabbitTransport) t).isConnected()).isTrue();
    }
    // "amqp://host:port/" means the default vhost "/", not the empty name.
    try (RabbitTransport t =
        RabbitTransport.builder(URI.create("rabbitmq://guest:guest@127.0.0.1:5672/")).build()) {
      assertThat(t.isConnected()).isTrue();
    }
  }
}
