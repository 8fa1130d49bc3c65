package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.RecordingHandler;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves docs/wire.md right: a client speaking plain AMQP 1.0 through Qpid JMS, with no Parley
 * class on its side, follows the document to talk to Parley in both directions.
 */
class WireContractIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  record OrderCreated(String orderId, int total) {}

  record CreateTicket(String orderId) {}

  record TicketCreated(String ticketId) {}

  private Connection raw;
  private Session session;
  private Messaging parley;
  private AmqpTransport transport;
  private String prefix;

  @BeforeEach
  void connect() throws Exception {
    prefix = "wire." + UUID.randomUUID().toString().substring(0, 8) + ".";
    JmsConnectionFactory factory =
        new JmsConnectionFactory(broker.amqpUri() + "?jms.validatePropertyNames=false");
    raw = factory.createConnection();
    raw.start();
    session = raw.createSession(false, Session.AUTO_ACKNOWLEDGE);
    transport = AmqpTransport.builder(broker.amqpUri()).build();
    parley =
        Messaging.builder()
            .service("kitchen-service")
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .allowReplyTo(prefix + "my.replies") // a foreign caller's own reply queue (wire.md §3)
            .build();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
    parley.close();
    transport.close(); // given to parley, which does not close it
    raw.close();
  }

  @Test
  void foreignClientPublishesEventsParleyHandles() throws Exception {
    Channel<OrderCreated> channel = Channel.event(prefix + "order.events", OrderCreated.class);
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    parley.subscribe(channel, "kitchen", handler);
    MessageProducer producer = session.createProducer(session.createTopic(prefix + "order.events"));

    // As wire.md says: address = channel name, multicast; payload in a data section or as an AMQP
    // string; Parley headers as application properties.
    BytesMessage bytes = session.createBytesMessage();
    bytes.writeBytes("{\"orderId\":\"o-1\",\"total\":42}".getBytes(StandardCharsets.UTF_8));
    bytes.setStringProperty("parley-id", "01a20000-0000-7000-8000-000000000001");
    bytes.setStringProperty("parley-type", "order.OrderCreated");
    bytes.setStringProperty("content-type", "application/json");
    producer.send(bytes, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY, 0);
    TextMessage text = session.createTextMessage("{\"orderId\":\"o-2\",\"total\":7}");
    text.setStringProperty("content-type", "application/json");
    producer.send(text, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY, 0);

    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 2);
    // An unpartitioned subscription runs its messages on several lanes: any order.
    assertThat(handler.payloads())
        .containsExactlyInAnyOrder(new OrderCreated("o-1", 42), new OrderCreated("o-2", 7));
    java.util.Map<String, dev.parley.message.Message> byOrder = new java.util.HashMap<>();
    handler.calls().forEach(c -> byOrder.put(c.payload().orderId(), c.context().message()));
    assertThat(byOrder.get("o-1").id()).isEqualTo("01a20000-0000-7000-8000-000000000001");
    assertThat(byOrder.get("o-1").headers()).containsEntry("parley-type", "order.OrderCreated");
    // Without a parley-id, the message's own AMQP message-id is its id.
    assertThat(byOrder.get("o-2").id()).isEqualTo(text.getJMSMessageID().substring("ID:".length()));
  }

  /**
   * AMQP 1.0 allows only simple values as application properties; a foreign sender may write a list
   * anyway, nested deep. Parley reads strings, numbers and booleans and leaves such a value out:
   * the message is handled, the connection untouched. (Probed 2026-12-06: 2,000 levels pass Artemis
   * and Qpid JMS; at 20,000 Artemis's own decoder overflows its stack and closes the sender's
   * connection, so nothing deeper reaches a consumer.)
   */
  @Test
  void aListNestedDeepAsAnApplicationPropertyCostsNoConnection() throws Exception {
    Channel<OrderCreated> channel = Channel.event(prefix + "deep.events", OrderCreated.class);
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    parley.subscribe(channel, "kitchen", handler);
    MessageProducer producer = session.createProducer(session.createTopic(prefix + "deep.events"));
    Object nested = "leaf";
    for (int i = 0; i < 200; i++) {
      nested = java.util.List.of(nested);
    }
    TextMessage deep = session.createTextMessage("{\"orderId\":\"deep\",\"total\":1}");
    deep.setStringProperty("content-type", "application/json");
    // past JMS's checks, as a non-JMS client writes it
    ((org.apache.qpid.jms.provider.amqp.message.AmqpJmsMessageFacade)
            ((org.apache.qpid.jms.message.JmsMessage) deep).getFacade())
        .setApplicationProperty("deep", nested);
    producer.send(deep, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY, 0);
    TextMessage after = session.createTextMessage("{\"orderId\":\"after\",\"total\":1}");
    after.setStringProperty("content-type", "application/json");
    producer.send(after, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY, 0);

    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 2);
    assertThat(handler.payloads())
        .extracting(OrderCreated::orderId)
        .containsExactlyInAnyOrder("deep", "after");
    assertThat(handler.calls())
        .anySatisfy(
            c -> assertThat(c.context().message().header("deep").orElse("")).startsWith("[[["));
    assertThat(transport.reconnects()).isZero();
  }

  /**
   * Spring JMS's JSON converter sends a TextMessage with a {@code _type} property and no content
   * type: on a channel with a default content type that is what it is read as.
   */
  @Test
  void aTextMessageWithoutAContentTypeIsReadAsTheChannelsDefault() throws Exception {
    Channel<OrderCreated> channel =
        Channel.event(prefix + "order.events", OrderCreated.class)
            .withDefaultContentType("application/json");
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    assertThat(parley.subscribe(channel, "kitchen", handler).describe())
        .contains("messages without a content type read as application/json");
    TextMessage text = session.createTextMessage("{\"orderId\":\"o-3\",\"total\":9}");
    text.setStringProperty("_type", "com.example.OrderCreated");
    session.createProducer(session.createTopic(prefix + "order.events")).send(text);

    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 1);
    assertThat(handler.payloads()).containsExactly(new OrderCreated("o-3", 9));
    // A default no codec reads is refused when the channel is used, not at the first message.
    Channel<OrderCreated> xml = channel.withDefaultContentType("application/xml");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> parley.subscribe(xml, "billing", RecordingHandler.succeeding()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("application/xml");
  }

  @Test
  void foreignClientConsumesWhatParleyPublishes() throws Exception {
    Channel<OrderCreated> channel =
        Channel.event(prefix + "order.events", OrderCreated.class)
            .withMessageType("order.OrderCreated")
            .withPartitionKey(OrderCreated::orderId);
    // A subscriber group's queue: <channel>.<group> on address <channel>, by its FQQN.
    MessageConsumer consumer =
        session.createConsumer(
            session.createTopic(prefix + "order.events::" + prefix + "order.events.billing"));

    dev.parley.message.Message sent = parley.publish(channel, new OrderCreated("o-9", 99)).join();

    Message received = consumer.receive(30_000);
    assertThat(received).isInstanceOf(BytesMessage.class);
    byte[] body = new byte[(int) ((BytesMessage) received).getBodyLength()];
    ((BytesMessage) received).readBytes(body);
    assertThat(new String(body, StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"o-9\",\"total\":99}");
    assertThat(received.getStringProperty("parley-id")).isEqualTo(sent.id());
    assertThat(received.getStringProperty("parley-type")).isEqualTo("order.OrderCreated");
    assertThat(received.getStringProperty("content-type")).isEqualTo("application/json");
    assertThat(received.getStringProperty("parley-source")).isEqualTo("kitchen-service");
    assertThat(received.propertyExists("parley-channel")).isFalse(); // the subscriber knows it
    assertThat(received.getStringProperty("parley-partition-key")).isEqualTo("o-9");
    assertThat(received.getStringProperty("JMSXGroupID")).isEqualTo("o-9");
    assertThat(received.getJMSDeliveryMode()).isEqualTo(DeliveryMode.PERSISTENT);
  }

  /** Parley serving the kitchen's commands: each CreateTicket answered with its ticket. */
  /** Closed after each test, in this order. */
  private final java.util.List<AutoCloseable> closeAfter = new java.util.ArrayList<>();

  /**
   * A kitchen service whose transport answers temporary queues ({@code
   * answerTemporaryQueues(true)}); it and its transport are closed after the test.
   */
  private Messaging kitchenAnsweringTemporaryQueues() {
    AmqpTransport answering =
        AmqpTransport.builder(broker.amqpUri()).answerTemporaryQueues(true).build();
    Messaging kitchen =
        Messaging.builder()
            .service("kitchen-service")
            .transport(answering)
            .codecs(Codecs.of(JsonCodec.of()))
            .build();
    closeAfter.add(kitchen);
    closeAfter.add(answering);
    return kitchen;
  }

  private void serveTickets() {
    parley.serve(
        Channel.command(prefix + "kitchen.commands", CreateTicket.class),
        (CreateTicket c, dev.parley.messaging.MessageContext ctx) ->
            new TicketCreated("t-" + c.orderId()));
  }

  @Test
  void foreignClientRequestsAndParleyReplies() throws Exception {
    serveTickets();
    Queue replyQueue = session.createQueue(prefix + "my.replies");
    MessageConsumer replies = session.createConsumer(replyQueue);
    MessageProducer producer =
        session.createProducer(session.createQueue(prefix + "kitchen.commands"));

    TextMessage request = session.createTextMessage("{\"orderId\":\"o-5\"}");
    request.setStringProperty("parley-id", "01a20000-0000-7000-8000-000000000005");
    request.setStringProperty("content-type", "application/json");
    request.setStringProperty(
        "parley-deadline", Long.toString(System.currentTimeMillis() + 30_000));
    request.setJMSReplyTo(replyQueue);
    producer.send(request);

    Message reply = replies.receive(30_000);
    assertThat(reply).isNotNull();
    assertThat(reply.getStringProperty("parley-correlation-id"))
        .isEqualTo("01a20000-0000-7000-8000-000000000005");
    assertThat(reply.getJMSCorrelationID()).isEqualTo("01a20000-0000-7000-8000-000000000005");
    assertThat(reply.getJMSDeliveryMode()).isEqualTo(DeliveryMode.NON_PERSISTENT); // transient
    assertThat(reply.propertyExists("parley-status")).isFalse(); // a reply without one is OK
    byte[] body = new byte[(int) ((BytesMessage) reply).getBodyLength()];
    ((BytesMessage) reply).readBytes(body);
    assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo("{\"ticketId\":\"t-o-5\"}");
  }

  @Test
  void foreignClientAnswersParleyRequests() throws Exception {
    Channel<CreateTicket> channel =
        Channel.command(prefix + "kitchen.commands", CreateTicket.class);
    MessageConsumer commands =
        session.createConsumer(session.createQueue(prefix + "kitchen.commands"));

    CompletableFuture<TicketCreated> reply =
        parley.request(
            channel, new CreateTicket("o-7"), TicketCreated.class, Duration.ofSeconds(30));
    Message request = commands.receive(30_000);
    assertThat(request.getStringProperty("parley-reply-to"))
        .startsWith("parley.reply.kitchen-service.");
    assertThat(Long.parseLong(request.getStringProperty("parley-deadline")))
        .isGreaterThan(System.currentTimeMillis());
    TextMessage answer = session.createTextMessage("{\"ticketId\":\"t-77\"}");
    answer.setStringProperty("parley-correlation-id", request.getStringProperty("parley-id"));
    answer.setStringProperty(
        "parley-reply-token", request.getStringProperty("parley-reply-token")); // wire.md §3
    answer.setStringProperty("parley-status", "OK");
    answer.setStringProperty("content-type", "application/json");
    session.createProducer(request.getJMSReplyTo()).send(answer);

    assertThat(reply).succeedsWithin(Duration.ofSeconds(30)).isEqualTo(new TicketCreated("t-77"));
  }

  /**
   * A JMS listener that answers with the request's JMSCorrelationID (JMS's correlation-id pattern)
   * and nothing of Parley's answers a request on a channel with replies by correlation id.
   */
  @Test
  void aJmsListenerThatEchoesTheCorrelationIdAnswersAChannelWithRepliesByCorrelationId()
      throws Exception {
    Channel<CreateTicket> channel =
        Channel.command(prefix + "legacy.rpc", CreateTicket.class).withRepliesByCorrelationId();
    MessageConsumer commands = session.createConsumer(session.createQueue(prefix + "legacy.rpc"));

    CompletableFuture<TicketCreated> reply =
        parley.request(
            channel, new CreateTicket("o-7"), TicketCreated.class, Duration.ofSeconds(30));
    Message request = commands.receive(30_000);
    assertThat(request.getJMSCorrelationID()).hasSize(22);
    assertThat(request.getStringProperty("parley-reply-token")).isNull();
    TextMessage answer = session.createTextMessage("{\"ticketId\":\"t-7\"}");
    answer.setJMSCorrelationID(request.getJMSCorrelationID());
    answer.setStringProperty("content-type", "application/json");
    session.createProducer(request.getJMSReplyTo()).send(answer);

    assertThat(reply).succeedsWithin(Duration.ofSeconds(30)).isEqualTo(new TicketCreated("t-7"));
    assertThat(parley.metrics().forgedReplies()).isZero();
  }

  /**
   * wire.md §1: a request without {@code parley-id} is known by its native message-id — a string as
   * it is, a uuid as its text — never with Qpid's {@code ID:}/{@code AMQP_…:} prefixes, so the
   * caller matches the reply's correlation id against the id it sent.
   */
  @Test
  void aForeignCallersOwnMessageIdComesBackAsTheCorrelationId() throws Exception {
    serveTickets();
    Queue replyQueue = session.createQueue(prefix + "my.replies");
    MessageConsumer replies = session.createConsumer(replyQueue);

    for (String idType : new String[] {"UUID_STRING", "UUID"}) {
      try (Connection foreign =
          new JmsConnectionFactory(
                  broker.amqpUri()
                      + "?jms.validatePropertyNames=false&jms.messageIDPolicy.messageIDType="
                      + idType)
              .createConnection()) {
        Session s = foreign.createSession(false, Session.AUTO_ACKNOWLEDGE);
        TextMessage request = s.createTextMessage("{\"orderId\":\"o-" + idType + "\"}");
        request.setStringProperty("content-type", "application/json");
        request.setJMSReplyTo(s.createQueue(prefix + "my.replies"));
        s.createProducer(s.createQueue(prefix + "kitchen.commands")).send(request);
        String sentId =
            request.getJMSMessageID().replaceFirst("^ID:", "").replaceFirst("^AMQP_[A-Z_]+:", "");

        Message reply = replies.receive(30_000);
        assertThat(reply).as(idType).isNotNull();
        assertThat(reply.getStringProperty("parley-correlation-id")).as(idType).isEqualTo(sentId);
        assertThat(reply.getJMSCorrelationID()).as(idType).doesNotContain("AMQP_").endsWith(sentId);
      }
    }
  }

  /**
   * JMS's own request/reply, {@code QueueRequestor} (as Spring's {@code JmsTemplate.sendAndReceive}
   * does it): a temporary queue as JMSReplyTo, named by the broker. By default a Parley responder
   * does not answer it (Artemis does not keep those names to itself, RELIABILITY.md S6): the
   * request is dead-lettered once with {@code parley.reply_to.not_allowed}. A transport built with
   * {@code answerTemporaryQueues(true)} answers it.
   */
  @Test
  void aJmsQueueRequestorIsAnsweredWhereTheTransportAnswersTemporaryQueues() throws Exception {
    serveTickets();
    try (jakarta.jms.QueueConnection jms =
        new JmsConnectionFactory(broker.amqpUri() + "?jms.validatePropertyNames=false")
            .createQueueConnection()) {
      jms.start();
      jakarta.jms.QueueSession s = jms.createQueueSession(false, Session.AUTO_ACKNOWLEDGE);
      jakarta.jms.TemporaryQueue temp = s.createTemporaryQueue();
      assertThat(AmqpAddresses.isTemporaryQueueName(temp.getQueueName())).isTrue();
      MessageConsumer replies = s.createConsumer(temp);
      TextMessage refused = s.createTextMessage("{\"orderId\":\"o-1\"}");
      refused.setStringProperty("content-type", "application/json");
      refused.setJMSReplyTo(temp);
      s.createProducer(s.createQueue(prefix + "kitchen.commands")).send(refused);
      Message deadLetter =
          session
              .createConsumer(session.createQueue(prefix + "kitchen.commands.dlq"))
              .receive(30_000);
      assertThat(deadLetter).isNotNull();
      assertThat(deadLetter.getStringProperty("parley-error-code"))
          .isEqualTo("parley.reply_to.not_allowed");
      assertThat(replies.receiveNoWait()).isNull();

      Messaging kitchen = kitchenAnsweringTemporaryQueues();
      parley.close(); // the default responder leaves the queue to this one
      kitchen.serve(
          Channel.command(prefix + "kitchen.commands", CreateTicket.class),
          (CreateTicket c, dev.parley.messaging.MessageContext ctx) ->
              new TicketCreated("t-" + c.orderId()));
      jakarta.jms.QueueRequestor requestor =
          new jakarta.jms.QueueRequestor(s, s.createQueue(prefix + "kitchen.commands"));
      TextMessage request = s.createTextMessage("{\"orderId\":\"o-2\"}");
      request.setStringProperty("content-type", "application/json");
      CompletableFuture<Message> reply =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return requestor.request(request); // waits without a timeout of its own
                } catch (jakarta.jms.JMSException e) {
                  throw new IllegalStateException(e);
                }
              });

      assertThat(reply).succeedsWithin(Duration.ofSeconds(30));
      BytesMessage answer = (BytesMessage) reply.join();
      byte[] body = new byte[(int) answer.getBodyLength()];
      answer.readBytes(body);
      assertThat(new String(body, StandardCharsets.UTF_8)).isEqualTo("{\"ticketId\":\"t-o-2\"}");
    }
  }

  /**
   * A JMS requester that gave up — its time-to-live passed and its temporary queue is gone — gets
   * no reply: on Artemis a reply would make a durable queue of that name holding it (a reply in
   * time goes, as {@link #aJmsQueueRequestorIsAnsweredWhereTheTransportAnswersTemporaryQueues}
   * shows).
   */
  @Test
  void noReplyGoesToATemporaryQueueAfterItsRequestersDeadline() throws Exception {
    java.util.concurrent.CountDownLatch gaveUp = new java.util.concurrent.CountDownLatch(1);
    Messaging kitchen = kitchenAnsweringTemporaryQueues();
    kitchen.serve(
        Channel.command(prefix + "slow.commands", CreateTicket.class),
        (CreateTicket c, dev.parley.messaging.MessageContext ctx) -> {
          gaveUp.await();
          return new TicketCreated("t-" + c.orderId());
        });
    String temporary;
    long expiration;
    try (Connection jms =
        new JmsConnectionFactory(broker.amqpUri() + "?jms.validatePropertyNames=false")
            .createConnection()) {
      jms.start();
      Session s = jms.createSession(false, Session.AUTO_ACKNOWLEDGE);
      jakarta.jms.TemporaryQueue temp = s.createTemporaryQueue();
      temporary = temp.getQueueName();
      TextMessage request = s.createTextMessage("{\"orderId\":\"o-1\"}");
      request.setStringProperty("content-type", "application/json");
      request.setJMSReplyTo(temp);
      MessageProducer producer = s.createProducer(s.createQueue(prefix + "slow.commands"));
      producer.setTimeToLive(2_000);
      producer.send(request);
      expiration = request.getJMSExpiration();
      await().atMost(Duration.ofSeconds(30)).until(() -> kitchen.metrics().received() == 1);
    } // the requester gives up: its temporary queue goes
    assertThat(broker.broker().queueNames()).doesNotContain(temporary);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> System.currentTimeMillis() > expiration + 50);
    gaveUp.countDown();

    await().atMost(Duration.ofSeconds(30)).until(() -> kitchen.metrics().handled() == 1);
    await() // acknowledged: a reply would have gone before it
        .atMost(Duration.ofSeconds(30))
        .until(() -> broker.broker().messageCount(prefix + "slow.commands") == 0);
    assertThat(broker.broker().queueNames()).doesNotContain(temporary);
  }

  /**
   * A JMS requester's time-to-live is its request's deadline when it sends no {@code
   * parley-deadline}: the handler runs with it as the current deadline, as with a Parley caller's.
   */
  @Test
  void aJmsRequestersTimeToLiveIsItsDeadline() throws Exception {
    CompletableFuture<java.util.Optional<java.time.Instant>> seen = new CompletableFuture<>();
    parley.serve(
        Channel.command(prefix + "kitchen.commands", CreateTicket.class),
        (CreateTicket c, dev.parley.messaging.MessageContext ctx) -> {
          seen.complete(
              dev.parley.policy.Deadline.current().isPresent()
                  ? ctx.deadline()
                  : java.util.Optional.empty());
          return new TicketCreated("t-" + c.orderId());
        });
    MessageProducer producer =
        session.createProducer(session.createQueue(prefix + "kitchen.commands"));
    producer.setTimeToLive(60_000);
    TextMessage request = session.createTextMessage("{\"orderId\":\"o-7\"}");
    request.setStringProperty("content-type", "application/json");
    request.setJMSReplyTo(session.createQueue(prefix + "my.replies"));
    producer.send(request);

    java.util.Optional<java.time.Instant> deadline =
        seen.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(deadline).isPresent();
    assertThat(deadline.get())
        .isEqualTo(java.time.Instant.ofEpochMilli(request.getJMSExpiration()));
  }

  /** JMS's correlation-id pattern: the requester sets a correlation id and matches by it. */
  @Test
  void aForeignCallersOwnCorrelationIdComesBack() throws Exception {
    serveTickets();
    Queue replyQueue = session.createQueue(prefix + "my.replies");
    MessageConsumer replies = session.createConsumer(replyQueue);
    MessageProducer producer =
        session.createProducer(session.createQueue(prefix + "kitchen.commands"));

    TextMessage request = session.createTextMessage("{\"orderId\":\"o-7\"}");
    request.setStringProperty("content-type", "application/json");
    request.setJMSCorrelationID("order-rpc-7");
    request.setJMSReplyTo(replyQueue);
    producer.send(request);

    Message reply = replies.receive(30_000);
    assertThat(reply).isNotNull();
    assertThat(reply.getJMSCorrelationID()).isEqualTo("order-rpc-7");
    assertThat(reply.getStringProperty("parley-correlation-id")).isEqualTo("order-rpc-7");
  }

  /**
   * A foreign sender's duplicate id ({@code _AMQ_DUPL_ID}, Artemis's duplicate detection, kept per
   * address) must not make the broker drop Parley's own sends of the message: its delayed
   * redelivery goes to the same address, its dead letters of messages sharing the id to one queue.
   */
  @Test
  void aForeignDuplicateIdDoesNotDropTheRedelivery() throws Exception {
    Channel<OrderCreated> channel = Channel.event(prefix + "dup.events", OrderCreated.class);
    java.util.concurrent.atomic.AtomicInteger attempts =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.List<OrderCreated> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    parley.subscribe(
        channel,
        "kitchen",
        (OrderCreated e, dev.parley.messaging.MessageContext ctx) -> {
          if (attempts.incrementAndGet() == 1) {
            throw new IllegalStateException("the first attempt fails");
          }
          handled.add(e);
        },
        parley
            .defaultSubscriptionOptions()
            .withRedelivery(
                dev.parley.messaging.Redelivery.of(1, Duration.ZERO, Duration.ofMillis(200))));
    MessageProducer producer = session.createProducer(session.createTopic(prefix + "dup.events"));
    TextMessage text = session.createTextMessage("{\"orderId\":\"o-1\",\"total\":1}");
    text.setStringProperty("content-type", "application/json");
    text.setStringProperty("_AMQ_DUPL_ID", "foreign-dup-1");
    producer.send(text, DeliveryMode.PERSISTENT, Message.DEFAULT_PRIORITY, 0);

    await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 1);
    assertThat(attempts).hasValue(2);
  }

  @Test
  void foreignClientReadsDeadLetters() throws Exception {
    Channel<OrderCreated> channel = Channel.event(prefix + "order.events", OrderCreated.class);
    java.util.List<OrderCreated> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
    parley.subscribe(
        channel,
        "kitchen",
        (OrderCreated e, dev.parley.messaging.MessageContext ctx) -> {
          if (e.total() < 0) {
            throw new dev.parley.error.BadInputException(
                "kitchen.bad_order", "total must be positive");
          }
          handled.add(e);
        });
    MessageConsumer dead =
        session.createConsumer(session.createQueue(prefix + "order.events.kitchen.dlq"));

    parley.publish(channel, new OrderCreated("o-3", -1)).join();

    Message letter = dead.receive(30_000);
    assertThat(letter).isNotNull();
    assertThat(letter.getStringProperty("parley-error-code")).isEqualTo("kitchen.bad_order");
    assertThat(letter.getStringProperty("parley-error-message"))
        .isEqualTo("total must be positive");
    String originalQueue = letter.getStringProperty("parley-original-queue");
    assertThat(originalQueue)
        .isEqualTo(prefix + "order.events::" + prefix + "order.events.kitchen");
    assertThat(letter.getStringProperty("parley-attempt")).isEqualTo("1");

    // Replaying is sending it back there (wire.md §5), here with the total corrected.
    TextMessage replay = session.createTextMessage("{\"orderId\":\"o-3\",\"total\":5}");
    replay.setStringProperty("content-type", "application/json");
    session.createProducer(session.createTopic(originalQueue)).send(replay);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> handled.contains(new OrderCreated("o-3", 5)));
  }
}
