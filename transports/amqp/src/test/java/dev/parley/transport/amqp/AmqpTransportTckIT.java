package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.TransportTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.qpid.jms.JmsConnectionFactory;
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
  protected boolean isConnected(Transport transport) {
    return ((AmqpTransport) transport).isConnected();
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

  /** Raw Qpid JMS, with property-name checks off so that any header name reaches the broker. */
  @Override
  protected void sendRaw(String queue, List<Map.Entry<String, String>> headers, byte[] body)
      throws Exception {
    try (Connection connection =
            new JmsConnectionFactory(broker.amqpUri() + "?jms.validatePropertyNames=false")
                .createConnection();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = session.createProducer(session.createQueue(queue))) {
      BytesMessage message = session.createBytesMessage();
      message.writeBytes(body);
      for (Map.Entry<String, String> h : headers) {
        message.setStringProperty(h.getKey(), h.getValue());
      }
      producer.send(message);
    }
  }
}
