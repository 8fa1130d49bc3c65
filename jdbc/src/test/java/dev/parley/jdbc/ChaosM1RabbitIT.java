package dev.parley.jdbc;

import static org.awaitility.Awaitility.await;

import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.transport.rabbitmq.RabbitTransport;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/** M1 on a private RabbitMQ node (the RabbitMQ transport, quorum queues, partitions). */
class ChaosM1RabbitIT extends ChaosM1Contract {

  private static RabbitNode node;

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Override
  void startBroker() {
    if (node == null) {
      node = RabbitNode.startTemporary();
    }
  }

  @Override
  void killAndRestartBroker() {
    node.kill();
    node.start();
  }

  @Override
  void beforeFaults(Messaging producer) {
    // The partition queues exist now; let the broker persist them with a clean restart (a quorum
    // queue created a moment before a kill -9 can come back unusable on 3.10: docs/wire.md 7.5).
    node.stop();
    node.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> isConnected(producer.transport()));
  }

  @Override
  int brokerPort() {
    return node.port();
  }

  @Override
  Transport transport(int port) {
    return RabbitTransport.builder(URI.create("amqp://guest:guest@127.0.0.1:" + port + "/"))
        .sendTimeout(Duration.ofSeconds(3))
        .recoveryInterval(Duration.ofMillis(250))
        .memberHeartbeat(Duration.ofMillis(300))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  long reconnects(Transport transport) {
    return ((RabbitTransport) transport).reconnects();
  }

  @Override
  boolean isConnected(Transport transport) {
    return ((RabbitTransport) transport).isConnected();
  }
}
