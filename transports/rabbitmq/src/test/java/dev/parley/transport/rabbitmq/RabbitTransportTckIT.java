package dev.parley.transport.rabbitmq;

import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The RabbitMQ transport against a private RabbitMQ node (the suite stops and starts its broker,
 * which must never be the machine's shared one).
 */
class RabbitTransportTckIT extends TransportTck {

  private static Path directory;
  private static RabbitNode node;

  @BeforeAll
  static void startNode() throws IOException {
    directory = Files.createTempDirectory("parley-rabbit-");
    node = RabbitNode.start(directory);
  }

  @AfterAll
  static void stopNode() throws IOException {
    if (node != null) {
      node.close();
    }
    TestFiles.deleteRecursively(directory);
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
