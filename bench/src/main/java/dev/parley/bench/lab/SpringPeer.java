package dev.parley.bench.lab;

import dev.parley.bench.lab.Measure.Call;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import org.springframework.amqp.core.QueueBuilder;
import org.springframework.amqp.rabbit.AsyncRabbitTemplate;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.adapter.MessageListenerAdapter;
import org.springframework.amqp.support.converter.DefaultJackson2JavaTypeMapper;
import org.springframework.amqp.support.converter.Jackson2JsonMessageConverter;

/**
 * Spring AMQP 3.2.12 (no Spring Boot) as a peer of Parley on RabbitMQ, written the way its
 * reference guide writes it and matched to Parley's guarantees: persistent messages into a quorum
 * queue, publisher confirms (correlated), a listener container acknowledging after the listener
 * returned (its default AUTO mode), JSON through Jackson. Its own defaults otherwise: the
 * container's one consumer and prefetch 250, the AsyncRabbitTemplate's direct reply-to.
 */
final class SpringPeer {

  private SpringPeer() {}

  /** The responder's delegate: what {@code @RabbitListener} would call. */
  static final class Echo {
    public RequestReply.Hello handleMessage(RequestReply.Hello hello) {
      return hello;
    }
  }

  static Jackson2JsonMessageConverter converter() {
    Jackson2JsonMessageConverter converter = new Jackson2JsonMessageConverter();
    DefaultJackson2JavaTypeMapper types = new DefaultJackson2JavaTypeMapper();
    types.setTrustedPackages("dev.parley.bench.lab");
    converter.setJavaTypeMapper(types);
    return converter;
  }

  static CachingConnectionFactory connectionFactory(String uri, String name) {
    CachingConnectionFactory cf = new CachingConnectionFactory(URI.create(uri));
    String path = URI.create(uri).getPath();
    // amqp://h:5672/ names the default virtual host "/", as amqp-client reads it
    cf.setVirtualHost(path == null || path.length() <= 1 ? "/" : path.substring(1));
    cf.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    cf.setConnectionNameStrategy(f -> name);
    return cf;
  }

  /**
   * Request/reply: a SimpleMessageListenerContainer with a MessageListenerAdapter answers on the
   * request's reply-to; the caller's AsyncRabbitTemplate sends persistent, confirmed requests and
   * completes a CompletableFuture with the converted reply.
   */
  static Call requestReply(String uri, String queue, Resources resources) {
    CachingConnectionFactory serverCf = connectionFactory(uri, "lab-spring-server");
    resources.add(serverCf::destroy);
    CachingConnectionFactory clientCf = connectionFactory(uri, "lab-spring-client");
    resources.add(clientCf::destroy);
    new RabbitAdmin(serverCf).declareQueue(QueueBuilder.durable(queue).quorum().build());

    SimpleMessageListenerContainer container = new SimpleMessageListenerContainer(serverCf);
    container.setQueueNames(queue);
    MessageListenerAdapter adapter = new MessageListenerAdapter(new Echo(), converter());
    container.setMessageListener(adapter);
    container.afterPropertiesSet();
    container.start();
    resources.add(container::stop);

    AsyncRabbitTemplate template = new AsyncRabbitTemplate(clientCf, "", queue);
    template.getRabbitTemplate().setMessageConverter(converter());
    template.setEnableConfirms(true);
    template.setReceiveTimeout(RequestReply.TIMEOUT.toMillis());
    template.start();
    resources.add(template::stop);
    return () -> {
      CompletableFuture<RequestReply.Hello> reply =
          template.convertSendAndReceiveAsType(
              RequestReply.REQUEST,
              new org.springframework.core.ParameterizedTypeReference<RequestReply.Hello>() {});
      return reply;
    };
  }

  /**
   * Events: a RabbitTemplate publishing persistent messages with correlated confirms to a quorum
   * queue, a SimpleMessageListenerContainer with a MessageListener converting the JSON and
   * acknowledging after it returned. {@code consumed} receives each event's id; the call's future
   * is the one {@code register} returns for it.
   */
  static Call events(
      String uri,
      String queue,
      Resources resources,
      java.util.function.Supplier<Events.Event> next,
      java.util.function.Function<Long, CompletableFuture<Void>> register,
      java.util.function.LongConsumer consumed,
      java.util.function.BiConsumer<Long, Throwable> failed) {
    CachingConnectionFactory pubCf = connectionFactory(uri, "lab-spring-pub");
    resources.add(pubCf::destroy);
    CachingConnectionFactory subCf = connectionFactory(uri, "lab-spring-sub");
    resources.add(subCf::destroy);
    new RabbitAdmin(subCf).declareQueue(QueueBuilder.durable(queue).quorum().build());
    Jackson2JsonMessageConverter converter = converter();

    SimpleMessageListenerContainer container = new SimpleMessageListenerContainer(subCf);
    container.setQueueNames(queue);
    container.setMessageListener(
        message -> consumed.accept(((Events.Event) converter.fromMessage(message)).id()));
    container.afterPropertiesSet();
    container.start();
    resources.add(container::stop);

    org.springframework.amqp.rabbit.core.RabbitTemplate template =
        new org.springframework.amqp.rabbit.core.RabbitTemplate(pubCf);
    template.setMessageConverter(converter);
    template.setConfirmCallback(
        (correlation, ack, cause) -> {
          if (!ack && correlation != null) {
            failed.accept(Long.parseLong(correlation.getId()), new IllegalStateException(cause));
          }
        });
    return () -> {
      Events.Event e = next.get();
      CompletableFuture<Void> done = register.apply(e.id());
      template.convertAndSend(
          "",
          queue,
          e,
          new org.springframework.amqp.rabbit.connection.CorrelationData(Long.toString(e.id())));
      return done;
    };
  }
}
