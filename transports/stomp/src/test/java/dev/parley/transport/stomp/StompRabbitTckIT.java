package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The STOMP transport against RabbitMQ's STOMP plugin on a private RabbitMQ node (the suite stops
 * and starts its broker, which must never be the machine's shared one).
 */
class StompRabbitTckIT extends TransportTck {

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
    StompTransport t =
        StompTransport.builder(
                URI.create("stomp://guest:guest@127.0.0.1:" + node.stompPort() + "/"))
            .sendTimeout(Duration.ofSeconds(3))
            .heartbeat(Duration.ofSeconds(2))
            .reconnectInterval(Duration.ofMillis(250))
            .memberHeartbeat(Duration.ofMillis(300))
            .closeTimeout(Duration.ofSeconds(5))
            .build();
    assertThat(t.dialect()).isEqualTo("rabbitmq");
    return t;
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
    return ((StompTransport) transport).reconnects();
  }

  @Override
  protected boolean isConnected(Transport transport) {
    return ((StompTransport) transport).isConnected();
  }

  @Override
  protected int brokerConnectionCount() {
    return node.ctl().stompConnectionCount();
  }

  @Override
  protected void deleteQueue(Destination.GroupQueue group) {
    assertThat(node.ctl().consumers("/"))
        .anyMatch(line -> line.trim().startsWith(group.queueName() + "\t"));
    node.ctl().run("delete_queue", "-p", "/", group.queueName());
  }

  @Override
  protected void sendRaw(String queue, List<Map.Entry<String, String>> headers, byte[] body)
      throws Exception {
    RawStompSender.send(
        node.stompPort(),
        List.of(Map.entry("destination", "/queue/" + queue), Map.entry("persistent", "true")),
        headers,
        body);
  }
}
