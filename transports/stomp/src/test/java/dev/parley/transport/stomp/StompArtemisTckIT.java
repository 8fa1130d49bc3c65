package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The STOMP transport against the embedded Artemis's STOMP acceptor. */
class StompArtemisTckIT extends TransportTck {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected Transport newTransport() {
    StompTransport t =
        StompTransport.builder(broker.stompUri())
            .sendTimeout(Duration.ofSeconds(3))
            .heartbeat(Duration.ofSeconds(2))
            .reconnectInterval(Duration.ofMillis(100))
            .closeTimeout(Duration.ofSeconds(5))
            .build();
    assertThat(t.dialect()).isEqualTo("artemis");
    return t;
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
    return ((StompTransport) transport).reconnects();
  }

  @Override
  protected boolean isConnected(Transport transport) {
    return ((StompTransport) transport).isConnected();
  }

  @Override
  protected int brokerConnectionCount() {
    return broker.broker().connectionCount();
  }

  @Override
  protected void deleteQueue(Destination.GroupQueue group) {
    assertThat(broker.broker().consumerCount(group.queueName())).isPositive();
    assertThat(broker.broker().deleteQueue(group.queueName())).isTrue();
  }

  @Override
  protected void sendRaw(String queue, List<Map.Entry<String, String>> headers, byte[] body)
      throws Exception {
    RawStompSender.send(
        broker.stompUri().getPort(),
        List.of(Map.entry("destination", queue), Map.entry("destination-type", "ANYCAST")),
        headers,
        body);
  }
}
