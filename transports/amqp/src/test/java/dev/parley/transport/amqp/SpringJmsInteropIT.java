package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import jakarta.jms.BytesMessage;
import jakarta.jms.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.jms.listener.DefaultMessageListenerContainer;
import org.springframework.jms.listener.adapter.MessageListenerAdapter;
import org.springframework.jms.support.converter.MappingJackson2MessageConverter;
import org.springframework.jms.support.converter.MessageType;

/**
 * Parley and Spring JMS 6.2 on Qpid JMS, each configured as its documentation shows, calling each
 * other over the embedded Artemis. Spring's JSON converter sends a TextMessage with a type-id
 * property and no content type, and answers with the request's JMSCorrelationID, else its
 * JMSMessageID; {@code JmsTemplate.sendAndReceive} asks with a temporary queue as JMSReplyTo.
 */
class SpringJmsInteropIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  public record CreateTicket(String orderId) {}

  public record TicketCreated(String ticketId) {}

  /** The Spring application's listener bean. */
  public static final class Kitchen {
    public TicketCreated handleMessage(CreateTicket command) {
      return new TicketCreated("t-" + command.orderId());
    }
  }

  private JmsConnectionFactory jms;
  private AmqpTransport transport;
  private Messaging parley;
  private String prefix;

  @BeforeEach
  void start() {
    prefix = "spring." + UUID.randomUUID().toString().substring(0, 8) + ".";
    jms = new JmsConnectionFactory(broker.amqpUri() + "?jms.validatePropertyNames=false");
    transport = AmqpTransport.builder(broker.amqpUri()).answerTemporaryQueues(true).build();
    parley =
        Messaging.builder()
            .service("orders")
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .build();
  }

  @AfterEach
  void stop() {
    parley.close();
    transport.close();
  }

  /**
   * Spring's converter reads the request's type from Parley's {@code parley-type} header (its
   * type-id property, mapped to the class) and writes the reply's JSON as a TextMessage without a
   * content type: the Parley caller asks on a channel with replies by correlation id, reading
   * untyped replies as JSON.
   */
  @Test
  void aSpringListenerAnswersAParleyCaller() {
    String queue = prefix + "kitchen";
    MappingJackson2MessageConverter json = new MappingJackson2MessageConverter();
    json.setTargetType(MessageType.TEXT);
    json.setTypeIdPropertyName("parley-type");
    json.setTypeIdMappings(Map.of("CreateTicket", CreateTicket.class));
    MessageListenerAdapter adapter = new MessageListenerAdapter(new Kitchen());
    adapter.setMessageConverter(json);
    DefaultMessageListenerContainer container = new DefaultMessageListenerContainer();
    container.setConnectionFactory(jms);
    container.setDestinationName(queue);
    container.setMessageListener(adapter);
    container.afterPropertiesSet();
    container.start();
    try {
      Channel<CreateTicket> kitchen =
          Channel.command(queue, CreateTicket.class)
              .withRepliesByCorrelationId()
              .withDefaultContentType("application/json");
      for (int i = 0; i < 10; i++) {
        CompletableFuture<TicketCreated> reply =
            parley.request(
                kitchen, new CreateTicket("o-" + i), TicketCreated.class, Duration.ofSeconds(30));

        assertThat(reply)
            .succeedsWithin(Duration.ofSeconds(30))
            .isEqualTo(new TicketCreated("t-o-" + i));
      }
      assertThat(parley.metrics().forgedReplies()).isZero();
    } finally {
      container.shutdown();
    }
  }

  /**
   * {@code JmsTemplate.convertAndSend}'s JSON, no content type, and {@code sendAndReceive}'s
   * temporary reply queue: a Parley responder on a channel whose default content type is JSON, its
   * transport answering temporary queues.
   */
  @Test
  void aJmsTemplateSendAndReceiveCallsAParleyResponder() throws Exception {
    String queue = prefix + "tickets";
    parley.serve(
        Channel.command(queue, CreateTicket.class).withDefaultContentType("application/json"),
        (CreateTicket c, MessageContext ctx) -> new TicketCreated("t-" + c.orderId()));
    MappingJackson2MessageConverter json = new MappingJackson2MessageConverter();
    json.setTargetType(MessageType.TEXT);
    json.setTypeIdPropertyName("_type");
    JmsTemplate template = new JmsTemplate(jms);
    template.setReceiveTimeout(30_000);

    Message reply = template.sendAndReceive(queue, s -> json.toMessage(new CreateTicket("o-9"), s));

    assertThat(reply).isInstanceOf(BytesMessage.class);
    BytesMessage bytes = (BytesMessage) reply;
    byte[] body = new byte[(int) bytes.getBodyLength()];
    bytes.readBytes(body);
    assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo("{\"ticketId\":\"t-o-9\"}");
    assertThat(reply.getStringProperty("content-type")).isEqualTo("application/json");
  }
}
