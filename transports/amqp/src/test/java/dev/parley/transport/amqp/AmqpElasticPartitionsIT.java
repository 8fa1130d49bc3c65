package dev.parley.transport.amqp;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.ElasticPartitionsTck;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M6 on the embedded Artemis over AMQP 1.0 ({@link ElasticPartitionsTck}): the
 * broker's message groups assign the keys; a killed member's groups and unacknowledged messages go
 * to the others.
 */
class AmqpElasticPartitionsIT extends ElasticPartitionsTck {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected Transport newTransport(int port) {
    return AmqpTransport.builder(URI.create("amqp://127.0.0.1:" + port))
        .sendTimeout(Duration.ofSeconds(10))
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(500))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  /**
   * The broker keeps each key with the consumer it first went to (rebalancing is off, wire.md §4),
   * so members that join handle only keys of members that leave or die.
   */
  @Override
  protected int minimumHandlers() {
    return 2;
  }

  @Override
  protected int brokerPort() {
    return broker.amqpUri().getPort();
  }
}
