package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  protected boolean isConnected(Transport transport) {
    return ((RabbitTransport) transport).isConnected();
  }

  @Override
  protected int brokerConnectionCount() {
    return node.ctl().connectionCount("/");
  }

  /** Raw amqp-client: the headers as the message's headers table, published with a confirm. */
  @Override
  protected void deleteQueue(Destination.GroupQueue group) {
    assertThat(node.ctl().consumers("/"))
        .anyMatch(line -> line.trim().startsWith(group.queueName() + "\t"));
    node.ctl().run("delete_queue", "-p", "/", group.queueName());
  }

  @Override
  protected void sendRaw(String queue, List<Map.Entry<String, String>> headers, byte[] body)
      throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(node.amqpUri("/"));
    factory.setVirtualHost("/");
    try (com.rabbitmq.client.Connection connection = factory.newConnection("tck-raw");
        Channel channel = connection.createChannel()) {
      channel.confirmSelect();
      Map<String, Object> table = new LinkedHashMap<>();
      headers.forEach(h -> table.put(h.getKey(), h.getValue()));
      channel.basicPublish(
          "",
          queue,
          true,
          new AMQP.BasicProperties.Builder().deliveryMode(2).headers(table).build(),
          body);
      channel.waitForConfirmsOrDie(10_000);
    }
  }
}
