package dev.parley.jdbc;

import dev.parley.testing.kit.ChildJvmBroker;
import dev.parley.transport.amqp.AmqpTransport;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * M1 on the embedded Artemis run in a JVM of its own, so that it can be killed with SIGKILL (the
 * AMQP 1.0 transport; message groups keep per-key order).
 */
class ChaosM1ArtemisIT extends ChaosM1Contract {

  private static ChildJvmBroker broker;

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Override
  void startBroker() {
    if (broker == null) {
      broker = ChildJvmBroker.start();
    }
  }

  @Override
  void killAndRestartBroker() {
    broker.kill();
    broker.restart();
  }

  @Override
  int brokerPort() {
    return broker.amqpPort();
  }

  @Override
  Transport transport(int port) {
    return AmqpTransport.builder(URI.create("amqp://127.0.0.1:" + port))
        .sendTimeout(Duration.ofSeconds(3))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(500))
        .build();
  }

  @Override
  long reconnects(Transport transport) {
    return ((AmqpTransport) transport).reconnects();
  }

  @Override
  boolean isConnected(Transport transport) {
    return true;
  }
}
