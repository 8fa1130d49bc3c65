package dev.parley.transport.amqp;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The AMQP 1.0 transport against an embedded Artemis broker. */
class AmqpTransportTckIT extends TransportTck {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected Transport newTransport() {
    return AmqpTransport.builder(broker.amqpUri())
        .sendTimeout(Duration.ofSeconds(3))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(500))
        .build();
  }

  @Override
  protected void stopBroker() {
    broker.stop();
  }

  @Override
  protected void startBroker() {
    broker.start();
  }

  @Override
  protected long reconnects(Transport transport) {
    return ((AmqpTransport) transport).reconnects();
  }

  @Override
  protected int brokerConnectionCount() {
    return broker.broker().connectionCount();
  }
}
