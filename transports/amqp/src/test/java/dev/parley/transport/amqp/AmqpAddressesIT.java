package dev.parley.transport.amqp;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.BrokerAddressesTck;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The AMQP 1.0 transport given several brokers ({@link AmqpTransport.Builder#addresses}: Qpid JMS's
 * failover list), as an Artemis live server and its backup would be.
 */
class AmqpAddressesIT extends BrokerAddressesTck {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected int brokerPort() {
    return broker.amqpUri().getPort();
  }

  @Override
  protected Transport transport(String... addresses) {
    return AmqpTransport.builder(URI.create("amqp://unused.invalid:1"))
        .addresses(addresses)
        .heartbeat(Duration.ofSeconds(1))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(200))
        .sendTimeout(Duration.ofSeconds(5))
        .closeTimeout(Duration.ofSeconds(2))
        .startupConnectAttempts(2)
        .build();
  }

  @Override
  protected String brokerUrl(int... ports) {
    return "amqp://" + loopback(",", ports);
  }

  @Override
  protected long reconnects(Transport transport) {
    return ((AmqpTransport) transport).reconnects();
  }

  @Override
  protected boolean isConnected(Transport transport) {
    return ((AmqpTransport) transport).isConnected();
  }

  @Override
  protected String namesAll(int... ports) {
    return "amqp://" + loopback(",", ports);
  }

  @Override
  protected String connectFailureCode() {
    return "parley.transport.connect_failed";
  }
}
