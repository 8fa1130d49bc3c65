package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.RabbitVhostExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.AsyncRabbitTemplate;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.adapter.MessageListenerAdapter;
import org.springframework.amqp.support.converter.DefaultClassMapper;
import org.springframework.amqp.support.converter.Jackson2JsonMessageConverter;
import org.springframework.core.ParameterizedTypeReference;

/**
 * Parley and Spring AMQP 3.2, each written as its documentation shows, calling each other over the
 * machine's RabbitMQ: a Parley caller and a Spring listener (a listener container, a POJO listener
 * behind a {@code MessageListenerAdapter}, Jackson for JSON), which answers with the request's
 * correlation id, else its message id, and nothing of Parley's — on a channel with replies by
 * correlation id that answers the call; and Spring's {@code RabbitTemplate} and {@code
 * AsyncRabbitTemplate} calling a Parley responder over direct reply-to.
 */
class SpringAmqpInteropIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  public record CreateTicket(String orderId) {}

  public record TicketCreated(String ticketId) {}

  /** The Spring application's listener bean. */
  public static final class Kitchen {
    public TicketCreated handleMessage(CreateTicket command) {
      return new TicketCreated("t-" + command.orderId());
    }
  }

  private CachingConnectionFactory spring;
  private SimpleMessageListenerContainer container;
  private RabbitTransport transport;
  private Messaging parley;
  private String queue;

  @BeforeEach
  void start() throws Exception {
    queue = "spring." + UUID.randomUUID().toString().substring(0, 8) + ".kitchen";
    spring = new CachingConnectionFactory(rabbit.amqpUri());
    new RabbitAdmin(spring).declareQueue(new Queue(queue, true));
    Jackson2JsonMessageConverter json = new Jackson2JsonMessageConverter();
    DefaultClassMapper types = new DefaultClassMapper();
    types.setDefaultType(CreateTicket.class); // Parley's requests carry no __TypeId__
    json.setClassMapper(types);
    MessageListenerAdapter adapter = new MessageListenerAdapter(new Kitchen(), json);
    container = new SimpleMessageListenerContainer(spring);
    container.setQueueNames(queue);
    container.setMessageListener(adapter);
    container.start();

    transport = RabbitTransport.builder(rabbit.amqpUri()).build();
    parley =
        Messaging.builder()
            .service("orders")
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    parley.close();
    transport.close();
    container.stop();
    spring.destroy();
  }

  @Test
  void aSpringListenerAnswersAChannelWithRepliesByCorrelationId() {
    Channel<CreateTicket> kitchen =
        Channel.command(queue, CreateTicket.class).withRepliesByCorrelationId();

    for (int i = 0; i < 20; i++) {
      CompletableFuture<TicketCreated> reply =
          parley.request(
              kitchen, new CreateTicket("o-" + i), TicketCreated.class, Duration.ofSeconds(30));

      assertThat(reply)
          .succeedsWithin(Duration.ofSeconds(30))
          .isEqualTo(new TicketCreated("t-o-" + i));
    }
    assertThat(parley.metrics().forgedReplies()).isZero();
  }

  /**
   * {@code RabbitTemplate.convertSendAndReceiveAsType} over direct reply-to (Spring's default): no
   * message id, no correlation id, a {@code __TypeId__} header; Parley's responder answers the
   * broker's reply address and Spring reads the JSON reply as the type it asked for.
   */
  @Test
  void aRabbitTemplateCallsAParleyResponder() {
    String kitchen = servedByParley();
    RabbitTemplate template = new RabbitTemplate(spring);
    template.setMessageConverter(new Jackson2JsonMessageConverter());
    template.setReplyTimeout(30_000);
    try {
      TicketCreated reply =
          template.convertSendAndReceiveAsType(
              "",
              kitchen,
              new CreateTicket("o-3"),
              new ParameterizedTypeReference<TicketCreated>() {});

      assertThat(reply).isEqualTo(new TicketCreated("t-o-3"));
    } finally {
      // Its direct reply-to container: left running, it tries to consume again every few seconds
      // for the rest of the module's tests, into a virtual host deleted after this class
      template.stop();
    }
  }

  /**
   * {@code AsyncRabbitTemplate} matches replies by a correlation id of its own, which Parley's
   * responder returns (wire.md §3).
   */
  @Test
  void anAsyncRabbitTemplateCallsAParleyResponder() throws Exception {
    String kitchen = servedByParley();
    RabbitTemplate template = new RabbitTemplate(spring);
    template.setMessageConverter(new Jackson2JsonMessageConverter());
    AsyncRabbitTemplate async = new AsyncRabbitTemplate(template);
    async.setReceiveTimeout(30_000);
    async.start();
    try {
      List<CompletableFuture<TicketCreated>> calls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        calls.add(
            async.convertSendAndReceiveAsType(
                "",
                kitchen,
                new CreateTicket("o-" + i),
                new ParameterizedTypeReference<TicketCreated>() {}));
      }
      for (int i = 0; i < 20; i++) {
        assertThat(calls.get(i))
            .succeedsWithin(Duration.ofSeconds(30))
            .isEqualTo(new TicketCreated("t-o-" + i));
      }
    } finally {
      async.stop();
    }
  }

  /** A command queue of Parley's own (declared by its responder), served with the same tickets. */
  private String servedByParley() {
    String parleys = queue + ".parley";
    parley.serve(
        Channel.command(parleys, CreateTicket.class),
        (CreateTicket c, MessageContext ctx) -> new TicketCreated("t-" + c.orderId()));
    return parleys;
  }

  /** Without the option Spring's reply lacks the reply token: dropped, the call times out. */
  @Test
  void withoutRepliesByCorrelationIdSpringsReplyIsDroppedAsForged() {
    Channel<CreateTicket> kitchen = Channel.command(queue, CreateTicket.class);

    CompletableFuture<TicketCreated> reply =
        parley.request(
            kitchen, new CreateTicket("o-1"), TicketCreated.class, Duration.ofSeconds(2));

    assertThat(reply).failsWithin(Duration.ofSeconds(30));
    assertThat(parley.metrics().forgedReplies()).isEqualTo(1);
  }
}
