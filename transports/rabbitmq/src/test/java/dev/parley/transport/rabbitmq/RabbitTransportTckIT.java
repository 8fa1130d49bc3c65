package dev.parley.transport.rabbitmq;

import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The RabbitMQ transport against a private RabbitMQ node (the suite stops and starts its broker,
 * which must never be the machine's shared one).
 */
class RabbitTransportTckIT extends TransportTck {

  private static RabbitNode node;

  @BeforeAll
  static void startNode() {
    node = RabbitNode.startTemporary();
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Override
  protected Transport newTransport() {
    return RabbitTransport.builder(node.amqpUri("/"))
        .sendTimeout(Duration.ofSeconds(3))
        .recoveryInterval(Duration.ofMillis(250))
        .memberHeartbeat(Duration.ofMillis(300))
        .closeTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Override
  protected void stopBroker() {
    node.stop();
  }

  @Override
  protected void startBroker() {
    node.start();
  }

  @Override
  protected long reconnects(Transport transport) {
    return ((RabbitTransport) transport).reconnects();
  }

  @Override
  protected int brokerConnectionCount() {
    return node.ctl().connectionCount("/");
  }
}
