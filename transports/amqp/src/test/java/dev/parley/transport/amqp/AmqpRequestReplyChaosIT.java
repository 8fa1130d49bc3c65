package dev.parley.transport.amqp;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.RequestReplyChaos;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M10 on AMQP 1.0, against the embedded Artemis: requests wait for the broker's
 * outcome as every AMQP 1.0 send does.
 */
class AmqpRequestReplyChaosIT extends RequestReplyChaos {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected String brokerHost() {
    return broker.amqpUri().getHost();
  }

  @Override
  protected int brokerPort() {
    return broker.amqpUri().getPort();
  }

  @Override
  protected Transport newTransport(String host, int port) {
    return AmqpTransport.builder(URI.create("amqp://" + host + ":" + port))
        .sendTimeout(Duration.ofSeconds(3))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(500))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  protected URI brokerUri() {
    return broker.amqpUri();
  }
}
