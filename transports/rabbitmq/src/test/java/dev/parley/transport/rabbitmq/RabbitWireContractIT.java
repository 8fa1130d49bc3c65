package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.BadInputException;
import dev.parley.error.TransportException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.RecordingHandler;
import dev.parley.testing.tck.OversizeScenarios;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves the RabbitMQ part of docs/wire.md: a client on the plain amqp-client, with no Parley class
 * on its side, talks to Parley in both directions. Runs on the machine's RabbitMQ in a vhost of its
 * own.
 */
class RabbitWireContractIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  record OrderCreated(String orderId, int total) {}

  record CreateTicket(String orderId) {}

  record TicketCreated(String ticketId) {}

  private Connection raw;
  private com.rabbitmq.client.Channel channel;
  private Messaging parley;
  private RabbitTransport transport; // given to parley, which does not close it
  private String prefix;

  @BeforeEach
  void connect() throws Exception {
    prefix = "wire." + UUID.randomUUID().toString().substring(0, 8) + ".";
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(rabbit.amqpUri());
    raw = factory.newConnection("wire-contract-test");
    channel = raw.createChannel();
    transport = RabbitTransport.builder(rabbit.amqpUri()).build();
    parley =
        Messaging.builder()
            .service("kitchen-service")
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .build();
  }

  /** A service of a test, on a transport of its own: both closed after the test. */
  private record Service(RabbitTransport transport, Messaging messaging) {}

  private final List<AutoCloseable> services = new java.util.ArrayList<>();

  /** A service whose transport reads bodies of at most {@code maxBody} bytes. */
  private Service readingAtMost(String name, int maxBody) {
    RabbitTransport t =
        RabbitTransport.builder(rabbit.amqpUri()).maxInboundMessageSize(maxBody).build();
    Messaging m = messaging(name, t);
    services.add(m);
    services.add(t); // given to the messaging, which does not close it
    return new Service(t, m);
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : services) {
      c.close();
    }
    parley.close();
    transport.close();
    raw.close();
  }

  @Test
  void foreignClientPublishesEventsParleyHandles() throws Exception {
    Channel<OrderCreated> events = Channel.event(prefix + "order.events", OrderCreated.class);
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    parley.subscribe(events, "kitchen", handler);

    // As wire.md says: the event channel is a durable fanout exchange named after the channel;
    // Parley headers travel in the headers table, or as the standard properties.
    channel.basicPublish(
        prefix + "order.events",
        "",
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .headers(
                Map.of(
                    "parley-id", "01a20000-0000-7000-8000-000000000001",
                    "parley-type", "order.OrderCreated",
                    "content-type", "application/json"))
            .build(),
        "{\"orderId\":\"o-1\",\"total\":42}".getBytes(StandardCharsets.UTF_8));
    channel.basicPublish(
        prefix + "order.events",
        "",
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .messageId("01a20000-0000-7000-8000-000000000002")
            .contentType("application/json")
            .type("order.OrderCreated")
            .build(),
        "{\"orderId\":\"o-2\",\"total\":7}".getBytes(StandardCharsets.UTF_8));

    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 2);
    // An unpartitioned subscription runs its messages on several lanes: any order.
    assertThat(handler.payloads())
        .containsExactlyInAnyOrder(new OrderCreated("o-1", 42), new OrderCreated("o-2", 7));
    Map<String, Message> byOrder = new java.util.HashMap<>();
    handler.calls().forEach(c -> byOrder.put(c.payload().orderId(), c.context().message()));
    assertThat(byOrder.get("o-1").id()).isEqualTo("01a20000-0000-7000-8000-000000000001");
    assertThat(byOrder.get("o-2").id()).isEqualTo("01a20000-0000-7000-8000-000000000002");
    assertThat(byOrder.get("o-2").headers()).containsEntry("parley-type", "order.OrderCreated");
  }

  /**
   * RabbitMQ takes any headers table a client writes, nested as deep as it likes; amqp-client reads
   * at most 32 levels of nested tables and arrays and treats a deeper one as a malformed frame — a
   * connection error. One such message from a foreign client must not cost the consuming service
   * its connection over and over: it is dead-lettered once while the others flow.
   */
  @Test
  void aMessageWhoseHeadersNestDeeperThanTheClientReadsIsDeadLetteredOnce() throws Exception {
    Channel<OrderCreated> events = Channel.event(prefix + "order.events", OrderCreated.class);
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    parley.subscribe(events, "kitchen", handler);
    Map<String, Object> nested = Map.of("leaf", "x");
    for (int i = 0; i < 40; i++) {
      nested = Map.of("n", nested);
    }
    publishTwentyAndOneMore(
        prefix + "order.events",
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .messageId("01a20000-0000-7000-8000-0000000000ff")
            .contentType("application/json")
            .headers(Map.of("deep", nested))
            .build(),
        "{\"orderId\":\"deep\",\"total\":1}".getBytes(StandardCharsets.UTF_8));
    String dlq = prefix + "order.events.kitchen.dlq";
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> handler.callCount() == 20 && channel.messageCount(dlq) == 1);
    assertThat(transport.reconnects()).as("connections lost").isZero();
    GetResponse letter = channel.basicGet(dlq, true);
    assertThat(letter.getProps().getMessageId()).isEqualTo("01a20000-0000-7000-8000-0000000000ff");
    assertThat(String.valueOf(letter.getProps().getHeaders().get("parley-error-code")))
        .isEqualTo("parley.message.unreadable");
    assertThat(new String(letter.getBody(), StandardCharsets.UTF_8)).contains("\"deep\"");
  }

  /**
   * A body over what the consumer reads (amqp-client refuses one of its maximum or more with a
   * connection error, and RabbitMQ takes up to 128 MiB): not read, but rejected, so that RabbitMQ
   * moves it whole to the dead-letter queue, while the others flow and the connection stays.
   */
  @Test
  void aBodyOverTheMaximumIsRejectedWholeToTheDeadLetterQueue() throws Exception {
    RabbitTransport small =
        RabbitTransport.builder(rabbit.amqpUri()).maxInboundMessageSize(100_000).build();
    Messaging m = messaging("kitchen-service", small);
    String dlq = prefix + "big.events.kitchen.dlq";
    byte[] big = new byte[300_000]; // three body frames at RabbitMQ's 128 KiB frame_max
    java.util.Arrays.fill(big, (byte) 'x');
    try {
      Channel<OrderCreated> events = Channel.event(prefix + "big.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      m.subscribe(events, "kitchen", handler);
      List<dev.parley.message.Message> deadLetters = new CopyOnWriteArrayList<>();
      m.subscribeDeadLetters(events, "kitchen", deadLetters::add);
      publishTwentyAndOneMore(
          prefix + "big.events",
          new AMQP.BasicProperties.Builder()
              .deliveryMode(2)
              .messageId("01a20000-0000-7000-8000-0000000000fe")
              .contentType("application/json")
              .build(),
          big);
      await().atMost(Duration.ofSeconds(60)).until(() -> handler.callCount() == 20);
      // In the dead-letter queue it is too large for the dead-letter subscription as well: left
      // unacknowledged there (RabbitMQ counts it out of the ready messages), never handed over.
      await()
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(10))
          .until(() -> channel.messageCount(dlq) == 0 && deadLetters.isEmpty());
      assertThat(small.reconnects()).as("connections lost").isZero();
      assertThat(m.metrics().deadLettered()).isEqualTo(1);
      assertThat(m.metrics().received()).isEqualTo(21);
    } finally {
      m.close();
      small.close();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> channel.messageCount(dlq) == 1);
    GetResponse letter = channel.basicGet(dlq, true);
    assertThat(letter.getProps().getMessageId()).isEqualTo("01a20000-0000-7000-8000-0000000000fe");
    assertThat(letter.getBody()).as("the body, whole").isEqualTo(big);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> deaths =
        (List<Map<String, Object>>) letter.getProps().getHeaders().get("x-death");
    assertThat(String.valueOf(deaths.get(0).get("reason"))).isEqualTo("rejected");
  }

  /**
   * A dead-letter subscription reads past dead letters too large for it, however many: each is left
   * unacknowledged in its place, whole, and the subscription consumes again beside them when they
   * hold half its prefetch. Until 2026-12-07 they held the prefetch for good: with 2 of them at a
   * prefetch of 2 the subscription received nothing more, on every start (they come first again).
   */
  @Test
  void moreDeadLettersTooLargeToReadThanThePrefetchStopNothing() throws Exception {
    RabbitTransport small =
        RabbitTransport.builder(rabbit.amqpUri()).maxInboundMessageSize(100_000).build();
    Messaging m =
        Messaging.builder()
            .service("kitchen-service")
            .transport(small)
            .codecs(Codecs.of(JsonCodec.of()))
            .subscriptionOptions(SubscriptionOptions.defaults().withPrefetch(2))
            .build();
    String channelName = prefix + "bigdead.events";
    String dlq = channelName + ".kitchen.dlq";
    byte[] big = new byte[300_000];
    java.util.Arrays.fill(big, (byte) 'x');
    List<String> read = new CopyOnWriteArrayList<>();
    try {
      Channel<OrderCreated> events = Channel.event(channelName, OrderCreated.class);
      m.subscribe(events, "kitchen", RecordingHandler.succeeding()); // declares the queues
      m.subscribeDeadLetters(events, "kitchen", letter -> read.add(letter.id()));
      for (int i = 0; i < 20; i++) {
        if (i % 4 == 0) { // 5 of them, among the first 17
          channel.basicPublish(
              "",
              dlq,
              new AMQP.BasicProperties.Builder().deliveryMode(2).messageId("big-" + i).build(),
              big);
        }
        channel.basicPublish(
            "",
            dlq,
            new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .messageId("dead-" + i)
                .contentType("application/json")
                .build(),
            "{\"orderId\":\"o\"}".getBytes(StandardCharsets.UTF_8));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(read).as("dead letters read").hasSize(20));
      assertThat(read).doesNotHaveDuplicates().noneMatch(id -> id.startsWith("big-"));
      assertThat(small.reconnects()).as("connections lost").isZero();
    } finally {
      m.close();
      small.close();
    }
    // Left in place, whole, for an operator (or a reader that takes larger messages).
    await().atMost(Duration.ofSeconds(30)).until(() -> channel.messageCount(dlq) == 5);
    List<String> left = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      GetResponse letter = channel.basicGet(dlq, true);
      left.add(letter.getProps().getMessageId());
      assertThat(letter.getBody()).isEqualTo(big);
    }
    // (in no particular order: RabbitMQ returns each consumer's unacknowledged ones in turn)
    assertThat(left).containsExactlyInAnyOrder("big-0", "big-4", "big-8", "big-12", "big-16");
  }

  /**
   * A request over the responder's maximum is rejected whole to the dead-letter queue, and its
   * caller hears so at once — a failure reply {@code parley.message.too_large} — instead of waiting
   * for its deadline (until 2026-12-07 it waited, and the dead letter was not counted); the
   * responder answers the next request.
   */
  @Test
  void aRequestOverTheRespondersMaximumIsAnsweredWithTheFailure() throws Exception {
    Service responder = readingAtMost("kitchen-service", 100_000);
    OversizeScenarios.aRequestOverTheRespondersLimitIsAnsweredWithTheFailure(
        parley, responder.messaging(), prefix + "big.commands", 300_000);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> channel.messageCount(prefix + "big.commands.dlq") == 1);
  }

  /**
   * A reply over the caller's maximum fails the call at once, not retryable ({@code
   * parley.message.too_large}), instead of at its deadline (until 2026-12-07 it waited, and a retry
   * policy called again for the same reply); the next call is answered.
   */
  @Test
  void aReplyOverTheCallersMaximumFailsTheCallAtOnce() throws Exception {
    Service caller = readingAtMost("billing-service", 100_000);
    OversizeScenarios.aReplyOverTheCallersLimitFailsTheCallAtOnce(
        caller.messaging(), parley, prefix + "bigreply.commands", 300_000);
    assertThat(caller.transport().reconnects()).isZero();
  }

  private static Messaging messaging(String service, RabbitTransport transport) {
    return Messaging.builder()
        .service(service)
        .transport(transport)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  /**
   * RabbitMQ routes a message also by its {@code CC} and {@code BCC} headers and refuses one whose
   * value is text by closing the publishing channel: a message with such a header of its own is
   * refused at the sender with a typed error, and the sends around it go through. Until 2026-12-07
   * it went out, RabbitMQ closed the channel ("unacceptable_type_in_header"), and the send failed
   * as a retryable {@code TransportException} whose outcome was unknown — with every other send in
   * flight on that channel — so an outbox relay sent it again every round.
   */
  @Test
  void aHeaderRabbitMqRoutesByIsRefusedAtTheSenderAndTheOthersGoThrough() throws Exception {
    Channel<OrderCreated> events = Channel.event(prefix + "cc.events", OrderCreated.class);
    RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
    parley.subscribe(events, "kitchen", handler);
    List<CompletableFuture<?>> good = new java.util.ArrayList<>();
    List<CompletableFuture<Void>> refused = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      good.add(parley.publish(events, new OrderCreated("o-" + i, i)));
      if (i % 20 == 5) {
        for (String name : List.of("CC", "BCC")) {
          Message odd =
              parley.encode(events, new OrderCreated("odd", 0)).toBuilder()
                  .header(name, "billing.events")
                  .build();
          refused.add(parley.forward(new Destination.Event(prefix + "cc.events"), odd));
        }
      }
    }
    for (CompletableFuture<Void> r : refused) {
      assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS))
          .cause()
          .isInstanceOfSatisfying(
              BadInputException.class,
              e -> assertThat(e.errorCode()).isEqualTo("parley.header.reserved"));
    }
    CompletableFuture.allOf(good.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 40);
    assertThat(handler.payloads()).extracting(OrderCreated::orderId).doesNotContain("odd");
    // a header of another case is the message's own, and travels
    Message lower =
        parley.encode(events, new OrderCreated("lower", 0)).toBuilder().header("cc", "x").build();
    parley.forward(new Destination.Event(prefix + "cc.events"), lower).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 41);
  }

  /** Publishes 20 small events to {@code exchange} as a raw client, {@code odd} among them. */
  private void publishTwentyAndOneMore(String exchange, AMQP.BasicProperties odd, byte[] oddBody)
      throws Exception {
    for (int i = 0; i < 20; i++) {
      if (i == 10) {
        channel.basicPublish(exchange, "", odd, oddBody);
      }
      channel.basicPublish(
          exchange,
          "",
          new AMQP.BasicProperties.Builder()
              .deliveryMode(2)
              .contentType("application/json")
              .build(),
          ("{\"orderId\":\"o-" + i + "\",\"total\":1}").getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void foreignClientConsumesWhatParleyPublishes() throws Exception {
    Channel<OrderCreated> events =
        Channel.event(prefix + "order.events", OrderCreated.class)
            .withMessageType("order.OrderCreated")
            .withPartitionKey(OrderCreated::orderId);
    // A foreign subscriber group: its own queue bound to the channel's fanout exchange.
    channel.exchangeDeclare(prefix + "order.events", "fanout", true);
    channel.queueDeclare(prefix + "order.events.billing", true, false, false, null);
    channel.queueBind(prefix + "order.events.billing", prefix + "order.events", "");

    Message sent = parley.publish(events, new OrderCreated("o-9", 99)).join();

    GetResponse got = poll(prefix + "order.events.billing");
    assertThat(new String(got.getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"orderId\":\"o-9\",\"total\":99}");
    AMQP.BasicProperties props = got.getProps();
    assertThat(props.getMessageId()).isEqualTo(sent.id());
    assertThat(props.getContentType()).isEqualTo("application/json");
    assertThat(props.getType()).isEqualTo("order.OrderCreated");
    assertThat(props.getAppId()).isEqualTo("kitchen-service");
    assertThat(props.getDeliveryMode()).isEqualTo(2);
    // The routing key is the key's partition (wire.md: FNV-1a of the key, modulo 8 by default).
    assertThat(got.getEnvelope().getRoutingKey()).isEqualTo(Long.toString(fnv1a("o-9") % 8));
    assertThat(props.getHeaders())
        .extractingByKeys("parley-partition-key")
        .map(String::valueOf)
        .containsExactly("o-9");
    // A header with a property of its own travels only as that property (wire.md 7.1).
    assertThat(props.getHeaders())
        .doesNotContainKeys(
            "parley-id", "parley-type", "content-type", "parley-reply-to", "parley-source")
        .doesNotContainKey("parley-channel"); // the subscriber knows its channel
  }

  /** Parley serving the kitchen's commands: each CreateTicket answered with its ticket. */
  private void serveTickets() {
    parley.serve(
        Channel.command(prefix + "kitchen.commands", CreateTicket.class),
        (CreateTicket c, MessageContext ctx) -> new TicketCreated("t-" + c.orderId()));
  }

  @Test
  void foreignClientRequestsOverDirectReplyToAndParleyReplies() throws Exception {
    serveTickets();
    BlockingQueue<com.rabbitmq.client.Delivery> replies = new ArrayBlockingQueue<>(1);
    // RabbitMQ's direct reply-to: consume amq.rabbitmq.reply-to without acks, then publish on the
    // same channel.
    channel.basicConsume(
        "amq.rabbitmq.reply-to", true, (tag, delivery) -> replies.add(delivery), tag -> {});

    channel.basicPublish(
        "",
        prefix + "kitchen.commands",
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .messageId("01a20000-0000-7000-8000-000000000005")
            .contentType("application/json")
            .replyTo("amq.rabbitmq.reply-to")
            .headers(Map.of("parley-deadline", Long.toString(System.currentTimeMillis() + 30_000)))
            .build(),
        "{\"orderId\":\"o-5\"}".getBytes(StandardCharsets.UTF_8));

    com.rabbitmq.client.Delivery reply = replies.poll(30, TimeUnit.SECONDS);
    assertThat(reply).isNotNull();
    assertThat(reply.getProperties().getDeliveryMode()).isEqualTo(1); // replies are transient
    assertThat(reply.getProperties().getCorrelationId())
        .isEqualTo("01a20000-0000-7000-8000-000000000005");
    // A success carries no status (a reply without one is OK), and a caller that sent no reply
    // token gets no table at all.
    assertThat(reply.getProperties().getHeaders()).isNull();
    assertThat(new String(reply.getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"ticketId\":\"t-o-5\"}");
  }

  /**
   * S6: a responder never declares a queue a request names (before, each such request made the
   * responder declare a durable quorum queue named by the sender). A reply address nobody allowed
   * is dead-lettered unanswered; an allowed one that does not exist drops the reply.
   */
  @Test
  void aResponderNeverDeclaresTheQueueARequestNames() throws Exception {
    Channel<CreateTicket> commands =
        Channel.command(prefix + "kitchen.commands", CreateTicket.class);
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    // A transport given to a Messaging is the caller's to close.
    try (RabbitTransport transport = RabbitTransport.builder(rabbit.amqpUri()).build();
        Messaging responder =
            Messaging.builder()
                .service("kitchen-service")
                .transport(transport)
                .codecs(Codecs.of(JsonCodec.of()))
                .allowReplyTo(prefix + "gone.*")
                .build()) {
      responder.serve(
          commands,
          (CreateTicket c, MessageContext ctx) -> {
            calls.incrementAndGet();
            return new TicketCreated("t-" + c.orderId());
          });
      for (String replyTo : List.of(prefix + "victim.commands", prefix + "gone.replies")) {
        channel.basicPublish(
            "",
            prefix + "kitchen.commands",
            new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .contentType("application/json")
                .replyTo(replyTo)
                .build(),
            "{\"orderId\":\"o-1\"}".getBytes(StandardCharsets.UTF_8));
      }

      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                com.rabbitmq.client.Channel check = raw.createChannel();
                assertThat(
                        check
                            .queueDeclarePassive(prefix + "kitchen.commands.dlq")
                            .getMessageCount())
                    .as("the aimed request, dead-lettered")
                    .isEqualTo(1);
                check.close();
                assertThat(calls.get()).as("the allowed one handled").isEqualTo(1);
              });
      for (String named : List.of(prefix + "victim.commands", prefix + "gone.replies")) {
        com.rabbitmq.client.Channel check = raw.createChannel();
        assertThatThrownBy(() -> check.queueDeclarePassive(named))
            .as("%s was not declared", named)
            .isInstanceOf(java.io.IOException.class)
            .hasStackTraceContaining("NOT_FOUND");
      }
    }
  }

  /** A server-named reply queue (amq.gen-…, exclusive, auto-delete), consumed into {@code into}. */
  private String serverNamedReplyQueue(BlockingQueue<com.rabbitmq.client.Delivery> into)
      throws java.io.IOException {
    String queue = channel.queueDeclare().getQueue();
    channel.basicConsume(queue, true, (tag, delivery) -> into.add(delivery), tag -> {});
    return queue;
  }

  /**
   * RabbitMQ's RPC tutorial client as written (pika, amqplib, Spring AMQP's AsyncRabbitTemplate
   * alike): a correlation id and a reply queue, no message id — it gets its correlation id back.
   */
  @Test
  void theRpcTutorialsClientGetsItsCorrelationIdBack() throws Exception {
    serveTickets();
    BlockingQueue<com.rabbitmq.client.Delivery> replies = new ArrayBlockingQueue<>(4);
    String replyQueue = serverNamedReplyQueue(replies);

    channel.basicPublish(
        "",
        prefix + "kitchen.commands",
        new AMQP.BasicProperties.Builder()
            .correlationId("d7c1f1d2-rpc-42")
            .replyTo(replyQueue)
            .contentType("application/json")
            .build(),
        "{\"orderId\":\"o-42\"}".getBytes(StandardCharsets.UTF_8));

    com.rabbitmq.client.Delivery reply = replies.poll(30, TimeUnit.SECONDS);
    assertThat(reply).isNotNull();
    assertThat(reply.getProperties().getCorrelationId()).isEqualTo("d7c1f1d2-rpc-42");
    assertThat(new String(reply.getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"ticketId\":\"t-o-42\"}");
  }

  /** The classic AMQP 0-9-1 RPC pattern: a server-named, exclusive reply queue (wire.md §7.2). */
  @Test
  void foreignClientRequestsWithAServerNamedExclusiveReplyQueue() throws Exception {
    Channel<CreateTicket> commands =
        Channel.command(prefix + "kitchen.commands", CreateTicket.class);
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    parley.serve(
        commands,
        (CreateTicket c, MessageContext ctx) -> {
          calls.incrementAndGet();
          return new TicketCreated("t-" + c.orderId());
        });
    BlockingQueue<com.rabbitmq.client.Delivery> replies = new ArrayBlockingQueue<>(4);
    String replyQueue = serverNamedReplyQueue(replies);

    channel.basicPublish(
        "",
        prefix + "kitchen.commands",
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .messageId("01a20000-0000-7000-8000-000000000009")
            .contentType("application/json")
            .replyTo(replyQueue)
            .build(),
        "{\"orderId\":\"o-9\"}".getBytes(StandardCharsets.UTF_8));

    com.rabbitmq.client.Delivery reply = replies.poll(30, TimeUnit.SECONDS);
    assertThat(replyQueue).startsWith("amq.gen-");
    assertThat(reply).isNotNull();
    assertThat(reply.getProperties().getCorrelationId())
        .isEqualTo("01a20000-0000-7000-8000-000000000009");
    assertThat(new String(reply.getBody(), StandardCharsets.UTF_8))
        .isEqualTo("{\"ticketId\":\"t-o-9\"}");
    assertThat(calls.get()).as("handled once, not redelivered").isEqualTo(1);
    assertThat(replies.poll(500, TimeUnit.MILLISECONDS)).as("one reply").isNull();
  }

  /**
   * wire.md §7.4: a queue a foreign service declared (dead-lettering to X.dlq) gets its X.dlq when
   * Parley first sends to it, so RabbitMQ's own dead letters are not dropped.
   */
  @Test
  void parleyEnsuresTheDeadLetterQueueOfAForeignQueueItSendsTo() throws Exception {
    String queue = prefix + "foreign.commands";
    channel.queueDeclare(
        queue,
        true,
        false,
        false,
        Map.of(
            "x-queue-type", "quorum",
            "x-dead-letter-exchange", "",
            "x-dead-letter-routing-key", queue + ".dlq"));
    Channel<CreateTicket> commands = Channel.command(queue, CreateTicket.class);

    parley.send(commands, new CreateTicket("o-10")).join();

    com.rabbitmq.client.Channel check = raw.createChannel();
    assertThat(check.queueDeclarePassive(queue + ".dlq").getQueue()).isEqualTo(queue + ".dlq");
    assertThat(check.queueDeclarePassive(queue).getMessageCount()).isEqualTo(1);
    check.close();
  }

  /** A foreign client declaring a partition queue as wire.md §7.3 says gets no mismatch. */
  @Test
  void partitionQueuesDeclaredAsDocumentedMatchParleys() throws Exception {
    Channel<OrderCreated> events =
        Channel.event(prefix + "order.events", OrderCreated.class)
            .withPartitionKey(OrderCreated::orderId);
    parley.subscribe(events, "kitchen", RecordingHandler.<OrderCreated>succeeding());
    String group = prefix + "order.events.kitchen";

    for (int i = 0; i < 8; i++) {
      Map<String, Object> args = new java.util.HashMap<>();
      args.put("x-queue-type", "quorum");
      args.put("x-dead-letter-exchange", "");
      args.put("x-dead-letter-routing-key", group + ".dlq");
      args.put("x-delivery-limit", 20);
      args.put("x-dead-letter-strategy", "at-least-once");
      args.put("x-overflow", "reject-publish");
      args.put("x-single-active-consumer", true);
      channel.queueDeclare(group + ".p" + i, true, false, false, args);
    }
    channel.queueDeclare(group + ".dlq", true, false, false, Map.of("x-queue-type", "quorum"));
  }

  @Test
  void foreignClientAnswersParleyRequests() throws Exception {
    Channel<CreateTicket> commands =
        Channel.command(prefix + "kitchen.commands", CreateTicket.class);

    CompletableFuture<TicketCreated> reply =
        parley.request(
            commands, new CreateTicket("o-7"), TicketCreated.class, Duration.ofSeconds(30));
    // The request declared the command queue (producers declare what they send to).
    GetResponse request = poll(prefix + "kitchen.commands");
    AMQP.BasicProperties props = request.getProps();
    assertThat(props.getReplyTo()).startsWith("parley.reply.kitchen-service.");
    assertThat(Long.parseLong(String.valueOf(props.getHeaders().get("parley-deadline"))))
        .isGreaterThan(System.currentTimeMillis());
    // No per-message TTL: the responder drops an expired request itself (wire.md 7.1).
    assertThat(props.getExpiration()).isNull();
    channel.basicPublish(
        "",
        props.getReplyTo(),
        new AMQP.BasicProperties.Builder()
            .correlationId(props.getMessageId())
            .contentType("application/json")
            .headers(
                Map.of(
                    "parley-status",
                    "OK",
                    "parley-reply-token", // echoed, as wire.md §3 says
                    String.valueOf(props.getHeaders().get("parley-reply-token"))))
            .build(),
        "{\"ticketId\":\"t-77\"}".getBytes(StandardCharsets.UTF_8));

    assertThat(reply).succeedsWithin(Duration.ofSeconds(30)).isEqualTo(new TicketCreated("t-77"));
  }

  /**
   * RabbitMQ's RPC tutorial server (and Spring AMQP's {@code @RabbitListener}) answers with the
   * request's correlation_id and nothing of Parley's (the tutorial not even a content type). Such a
   * reply does not answer a plain channel's request (it lacks the reply token: dropped as forged)
   * but answers one on a channel with replies by correlation id, whose requests carry a
   * correlation_id made for them.
   */
  @Test
  void theRpcTutorialsServerAnswersAChannelWithRepliesByCorrelationId() throws Exception {
    Channel<CreateTicket> plain = Channel.command(prefix + "legacy.rpc", CreateTicket.class);
    Channel<CreateTicket> correlated =
        plain.withRepliesByCorrelationId().withDefaultContentType("application/json");

    CompletableFuture<TicketCreated> refused =
        parley.request(plain, new CreateTicket("o-1"), TicketCreated.class, Duration.ofSeconds(30));
    answerAsTheTutorialServerDoes(poll(prefix + "legacy.rpc"), "t-1");
    await().atMost(Duration.ofSeconds(30)).until(() -> parley.metrics().forgedReplies() == 1);
    assertThat(refused).isNotDone();

    CompletableFuture<TicketCreated> reply =
        parley.request(
            correlated, new CreateTicket("o-2"), TicketCreated.class, Duration.ofSeconds(30));
    GetResponse request = poll(prefix + "legacy.rpc");
    AMQP.BasicProperties props = request.getProps();
    assertThat(props.getCorrelationId()).hasSize(22).isNotEqualTo(props.getMessageId());
    assertThat(props.getHeaders()).doesNotContainKey("parley-reply-token");
    answerAsTheTutorialServerDoes(request, "t-2");

    assertThat(reply).succeedsWithin(Duration.ofSeconds(30)).isEqualTo(new TicketCreated("t-2"));
    assertThat(parley.metrics().forgedReplies()).isEqualTo(1);
  }

  /**
   * The tutorial's on_request with a JSON body: the request's correlation id, else its id, and no
   * content type (the channel's default reads it).
   */
  private void answerAsTheTutorialServerDoes(GetResponse request, String ticketId)
      throws Exception {
    AMQP.BasicProperties props = request.getProps();
    String correlation =
        props.getCorrelationId() != null ? props.getCorrelationId() : props.getMessageId();
    channel.basicPublish(
        "",
        props.getReplyTo(),
        new AMQP.BasicProperties.Builder().correlationId(correlation).build(),
        ("{\"ticketId\":\"" + ticketId + "\"}").getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void foreignClientReadsDeadLetters() throws Exception {
    Channel<OrderCreated> events = Channel.event(prefix + "order.events", OrderCreated.class);
    parley.subscribe(
        events,
        "kitchen",
        (OrderCreated e, MessageContext ctx) -> {
          throw new BadInputException("kitchen.bad_order", "total must be positive");
        });

    parley.publish(events, new OrderCreated("o-3", -1)).join();

    GetResponse letter = poll(prefix + "order.events.kitchen.dlq");
    Map<String, Object> headers = letter.getProps().getHeaders();
    assertThat(String.valueOf(headers.get("parley-error-code"))).isEqualTo("kitchen.bad_order");
    assertThat(String.valueOf(headers.get("parley-error-message")))
        .isEqualTo("total must be positive");
    assertThat(String.valueOf(headers.get("parley-original-queue")))
        .isEqualTo(prefix + "order.events.kitchen");
    assertThat(String.valueOf(headers.get("parley-attempt"))).isEqualTo("1");
  }

  @Test
  void brokerDeadLettersAtTheDeliveryLimitWithParleysErrorHeaders() throws Exception {
    String queue = prefix + "poison.commands";
    try (RabbitTransport transport =
        RabbitTransport.builder(rabbit.amqpUri()).deliveryLimit(2).build()) {
      Message poison = Message.builder().payload("x".getBytes(StandardCharsets.UTF_8)).build();
      transport.send(new Destination.Queue(queue), poison, SendOptions.NONE).join();
      // A consumer that crashes on the message every time (here: a foreign one that requeues it).
      List<Long> deliveries = new CopyOnWriteArrayList<>();
      channel.basicConsume(
          queue,
          false,
          (tag, d) -> {
            deliveries.add(d.getEnvelope().getDeliveryTag());
            channel.basicNack(d.getEnvelope().getDeliveryTag(), false, true);
          },
          tag -> {});
      BlockingQueue<Delivery> dead = new ArrayBlockingQueue<>(1);
      TransportSubscription dlq =
          transport.subscribe(
              new Destination.Queue(queue + ".dlq"),
              new ConsumerSettings(1, 1, false),
              DeliveryHandler.settling(
                  d -> {
                    dead.add(d);
                    return CompletableFuture.completedFuture(null);
                  }));

      Delivery letter = dead.poll(30, TimeUnit.SECONDS);
      dlq.close();
      assertThat(letter).isNotNull();
      // delivery limit 2: the first delivery and two redeliveries, then the broker gives up.
      assertThat(deliveries).hasSize(3);
      assertThat(letter.message().id()).isEqualTo(poison.id());
      assertThat(letter.message().headers())
          .containsEntry(Headers.ERROR_CODE, RabbitMessages.DELIVERY_LIMIT_CODE)
          .containsEntry(Headers.ORIGINAL_QUEUE, queue);
    }
  }

  @Test
  void aSendToAGroupQueueNobodyDeclaredFailsAsUnroutable() {
    try (RabbitTransport transport = RabbitTransport.builder(rabbit.amqpUri()).build()) {
      CompletableFuture<Void> send =
          transport.send(
              new Destination.GroupQueue(prefix + "nowhere", "nobody"),
              Message.builder().payload(new byte[] {1}).build(),
              SendOptions.NONE);

      assertThat(send)
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingCause()
          .isInstanceOf(TransportException.class)
          .satisfies(
              e ->
                  assertThat(((TransportException) e).errorCode())
                      .isEqualTo("parley.transport.unroutable"));
    }
  }

  @Test
  void aSendTheBrokerRefusesFailsAsNacked() throws Exception {
    // A queue that takes one message and refuses more (reject-publish nacks the publish).
    String queue = prefix + "full.commands";
    channel.queueDeclare(
        queue,
        true,
        false,
        false,
        Map.of("x-queue-type", "classic", "x-max-length", 1, "x-overflow", "reject-publish"));
    try (RabbitTransport transport = RabbitTransport.builder(rabbit.amqpUri()).build()) {
      Destination.Queue full = new Destination.Queue(queue);
      transport
          .send(full, Message.builder().payload(new byte[] {1}).build(), SendOptions.NONE)
          .join();

      CompletableFuture<Void> refused =
          transport.send(full, Message.builder().payload(new byte[] {2}).build(), SendOptions.NONE);

      assertThat(refused)
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingCause()
          .isInstanceOf(TransportException.class)
          .satisfies(
              e ->
                  assertThat(((TransportException) e).errorCode())
                      .isEqualTo("parley.transport.nacked"));
    }
  }

  @Test
  void classicQueuesAreAnOption() throws Exception {
    String queue = prefix + "classic.commands";
    try (RabbitTransport transport =
        RabbitTransport.builder(rabbit.amqpUri()).queueType(QueueType.CLASSIC).build()) {
      BlockingQueue<Delivery> received = new ArrayBlockingQueue<>(1);
      transport.subscribe(
          new Destination.Queue(queue),
          new ConsumerSettings(1, 1, false),
          DeliveryHandler.settling(
              d -> {
                received.add(d);
                return CompletableFuture.completedFuture(null);
              }));
      Message sent = Message.builder().payload(new byte[] {7}).build();
      transport.send(new Destination.Queue(queue), sent, SendOptions.NONE).join();

      assertThat(received.poll(30, TimeUnit.SECONDS))
          .extracting(d -> d.message().id())
          .isEqualTo(sent.id());
      assertThat(rabbit.ctl().list("list_queues", "-p", rabbit.vhost(), "name", "type"))
          .anySatisfy(line -> assertThat(line.split("\\s+")).containsExactly(queue, "classic"));
    }
  }

  @Test
  void aCommandSentBeforeAnyConsumerExistsIsDelivered() {
    Channel<CreateTicket> commands = Channel.command(prefix + "later.commands", CreateTicket.class);
    parley.send(commands, new CreateTicket("o-early")).join();

    List<CreateTicket> handled = new CopyOnWriteArrayList<>();
    try (RabbitTransport lateTransport = RabbitTransport.builder(rabbit.amqpUri()).build();
        Messaging late =
            Messaging.builder()
                .service("late-service")
                .transport(lateTransport)
                .codecs(Codecs.of(JsonCodec.of()))
                .build()) {
      late.serve(
          commands,
          (CreateTicket c, MessageContext ctx) -> {
            handled.add(c);
            return new TicketCreated("t-" + c.orderId());
          });
      await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 1);
    }
    assertThat(handled).containsExactly(new CreateTicket("o-early"));
  }

  /** 32-bit FNV-1a as docs/wire.md gives it, written here again rather than taken from Parley. */
  private static long fnv1a(String key) {
    long h = 0x811c9dc5L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h = ((h ^ (b & 0xff)) * 0x01000193L) & 0xffffffffL;
    }
    return h;
  }

  private GetResponse poll(String queue) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> channel.basicGet(queue, true), r -> r != null);
  }
}
