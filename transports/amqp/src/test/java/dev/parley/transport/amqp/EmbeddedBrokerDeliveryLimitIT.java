package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import java.util.UUID;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.qpid.jms.message.JmsMessageSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded broker's last line of defence (wire.md §5): a message given back {@value
 * EmbeddedBroker#MAX_DELIVERY_ATTEMPTS} times goes to {@code parley.broker.dlq} instead of being
 * redelivered for ever.
 */
class EmbeddedBrokerDeliveryLimitIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Test
  void aMessageGivenBackAtEveryDeliveryEndsInTheBrokersDeadLetterQueue() throws Exception {
    String queue = "limit." + UUID.randomUUID().toString().substring(0, 8);
    try (Connection connection =
        new JmsConnectionFactory(broker.amqpUri().toString()).createConnection()) {
      connection.start();
      Session session = connection.createSession(false, 101); // Qpid's INDIVIDUAL_ACKNOWLEDGE
      session.createProducer(session.createQueue(queue)).send(session.createTextMessage("poison"));
      MessageConsumer consumer = session.createConsumer(session.createQueue(queue));

      int deliveries = 0;
      for (Message m = consumer.receive(10_000); m != null; m = consumer.receive(1_000)) {
        deliveries++;
        // Give it back as failed, as Parley's consumer does when it cannot record an outcome.
        m.setIntProperty(JmsMessageSupport.JMS_AMQP_ACK_TYPE, JmsMessageSupport.MODIFIED_FAILED);
        m.acknowledge();
        assertThat(deliveries)
            .as("bounded")
            .isLessThanOrEqualTo(EmbeddedBroker.MAX_DELIVERY_ATTEMPTS);
      }
      MessageConsumer dead =
          session.createConsumer(session.createQueue(EmbeddedBroker.DEAD_LETTER_ADDRESS));
      Message letter = dead.receive(10_000);

      assertThat(deliveries).isEqualTo(EmbeddedBroker.MAX_DELIVERY_ATTEMPTS);
      assertThat(letter).isNotNull();
      assertThat(letter.getBody(String.class)).isEqualTo("poison");
    }
  }
}
