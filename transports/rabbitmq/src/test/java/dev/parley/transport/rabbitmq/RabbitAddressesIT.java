package dev.parley.transport.rabbitmq;

import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.tck.BrokerAddressesTck;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The RabbitMQ transport given several nodes ({@link RabbitTransport.Builder#addresses}), which
 * amqp-client takes in a random order for each of its two connections: both proxies stand before
 * the machine's RabbitMQ (a vhost of this class's own). A real cluster's node loss is {@code
 * RabbitClusterIT}.
 */
class RabbitAddressesIT extends BrokerAddressesTck {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  @Override
  protected int brokerPort() {
    return 5672;
  }

  @Override
  protected Transport transport(String... addresses) {
    return RabbitTransport.builder(
            URI.create("amqp://guest:guest@unused.invalid:1/" + rabbit.vhost()))
        .addresses(addresses)
        .heartbeat(Duration.ofSeconds(1))
        .recoveryInterval(Duration.ofMillis(100))
        .sendTimeout(Duration.ofSeconds(5))
        .closeTimeout(Duration.ofSeconds(2))
        .startupConnectAttempts(2)
        .build();
  }

  @Override
  protected String brokerUrl(int... ports) {
    return "rabbitmq://guest:guest@" + loopback(",", ports) + "/" + rabbit.vhost();
  }

  @Override
  protected long reconnects(Transport transport) {
    return ((RabbitTransport) transport).reconnects();
  }

  @Override
  protected boolean isConnected(Transport transport) {
    return ((RabbitTransport) transport).isConnected();
  }

  @Override
  protected String namesAll(int... ports) {
    return "at " + loopback(", ", ports);
  }

  @Override
  protected String connectFailureCode() {
    return "parley.transport.unavailable";
  }
}
