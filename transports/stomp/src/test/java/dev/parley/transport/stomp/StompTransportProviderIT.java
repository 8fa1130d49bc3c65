package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The provider is found by {@link ServiceLoader}; its default reaches the machine's RabbitMQ STOMP
 * plugin.
 */
class StompTransportProviderIT {

  @Test
  void theDefaultReachesTheLocalRabbitMqStompPlugin() {
    TransportProvider provider =
        ServiceLoader.load(TransportProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.supports(URI.create("stomp://localhost")))
            .findFirst()
            .orElseThrow();

    try (Transport t = provider.create(Optional.empty())) {
      assertThat(((StompTransport) t).isConnected()).isTrue();
      assertThat(((StompTransport) t).dialect()).isEqualTo("rabbitmq");
    }
  }
}
