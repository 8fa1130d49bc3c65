package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.BadInputException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.RecordingHandler;
import dev.parley.testing.tck.OversizeScenarios;
import dev.parley.transport.spi.Destination;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves section 8 of docs/wire.md: a client writing STOMP 1.2 frames by hand on a socket, with no
 * Parley class on its side, talks to Parley in both directions — on Artemis and on RabbitMQ.
 */
class StompWireContractIT {

  record OrderCreated(String orderId, int total) {}

  record CreateTicket(String orderId) {}

  record TicketCreated(String ticketId) {}

  /** What differs between the brokers, straight from the tables of docs/wire.md. */
  abstract static class Contract {
    final String prefix = "wire." + UUID.randomUUID().toString().substring(0, 8) + ".";
    Messaging parley;
    StompTransport transport;
    RawStomp raw;

    abstract URI uri();

    abstract String virtualHost();

    abstract Map<String, String> publishEvent(String channel);

    abstract Map<String, String> subscribeGroup(String channel, String group);

    abstract Map<String, String> sendCommand(String queue);

    abstract Map<String, String> subscribeQueue(String queue);

    abstract Map<String, String> answer(String replyQueue);

    /** STOMP's own {@code reply-to} header naming {@code queue}, as a STOMP client writes it. */
    abstract String replyTo(String queue);

    /** The MESSAGE header carrying {@code parley-id} (wire.md §8.1, §8.3). */
    abstract String idHeader();

    /** The MESSAGE header carrying {@code parley-type}. */
    abstract String typeHeader();

    /** The MESSAGE header carrying a reply's {@code parley-correlation-id}. */
    abstract String correlationHeader();

    /** The MESSAGE header carrying {@code parley-source}. */
    abstract String sourceHeader();

    void connect() throws IOException {
      transport = StompTransport.builder(uri()).build();
      parley =
          Messaging.builder()
              .service("kitchen-service")
              .transport(transport)
              .codecs(Codecs.of(JsonCodec.of()))
              .allowReplyTo(
                  prefix + "my.replies") // a foreign caller's own reply queue (wire.md §3)
              .build();
      raw = RawStomp.connect(uri().getHost(), uri().getPort(), virtualHost());
    }

    /**
     * Connects, and returns a typed order-events channel whose group {@code billing} the raw client
     * consumes (subscription {@code 1}).
     */
    Channel<OrderCreated> orderEventsWatchedByARawGroup() throws IOException {
      connect();
      raw.subscribe("1", subscribeGroup(prefix + "order.events", "billing"));
      return Channel.event(prefix + "order.events", OrderCreated.class)
          .withMessageType("order.OrderCreated");
    }

    /** Other services of a test, each with its transport: closed after the test. */
    final List<AutoCloseable> services = new ArrayList<>();

    /** Another service, on a transport of the default limits. */
    Messaging anotherService(String name) {
      StompTransport t = StompTransport.builder(uri()).build();
      Messaging m = messaging(name, t);
      services.add(m);
      services.add(t); // given to the messaging, which does not close it
      return m;
    }

    @AfterEach
    void close() throws Exception {
      for (AutoCloseable c : services) {
        c.close();
      }
      if (parley != null) {
        parley.close();
      }
      if (transport != null) {
        transport.close(); // given to parley, which does not close it
      }
      if (raw != null) {
        raw.close();
      }
    }

    @Test
    void foreignClientPublishesEventsParleyHandles() throws IOException {
      connect();
      Channel<OrderCreated> events = Channel.event(prefix + "order.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      parley.subscribe(events, "kitchen", handler);

      Map<String, String> h = publishEvent(prefix + "order.events");
      h.put("parley-id", "01a20000-0000-7000-8000-000000000001");
      h.put("parley-type", "order.OrderCreated");
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"orderId\":\"o-1\",\"total\":42}");

      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 1);
      assertThat(handler.payloads()).containsExactly(new OrderCreated("o-1", 42));
      assertThat(handler.calls().get(0).context().message().id())
          .isEqualTo("01a20000-0000-7000-8000-000000000001");
      assertThat(handler.calls().get(0).context().message().headers())
          .containsEntry("parley-type", "order.OrderCreated");
    }

    /** The raw client, and Parley on a transport that reads frames of at most {@code max} bytes. */
    void connectReadingFramesOfAtMost(int max) throws IOException {
      raw = RawStomp.connect(uri().getHost(), uri().getPort(), virtualHost());
      transport = StompTransport.builder(uri()).maxFrameBytes(max).build();
      parley = messaging("kitchen-service", transport);
    }

    /**
     * A MESSAGE larger than the transport reads (its frame limit) must not cost the connection over
     * and over (found 2026-12-06: a reconnect a second, the others starved), and is dead-lettered
     * whole, its body copied on the reader's way past it (since 2026-12-07; before, RabbitMQ's was
     * left unacknowledged at the broker, holding one of the subscription's prefetch, and Artemis's
     * dead-lettered without its body).
     */
    @Test
    void aMessageLargerThanTheFrameLimitCostsNoConnectionWhileOthersFlow() throws IOException {
      connectReadingFramesOfAtMost(64 * 1024);
      Channel<OrderCreated> events = Channel.event(prefix + "big.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      Subscription subscription = parley.subscribe(events, "kitchen", handler);
      String big = "{\"orderId\":\"big\",\"total\":1,\"pad\":\"" + "x".repeat(200_000) + "\"}";
      for (int i = 0; i < 20; i++) {
        Map<String, String> h = publishEvent(prefix + "big.events");
        h.put("content-type", "application/json");
        if (i == 10) {
          Map<String, String> bigHeaders = new LinkedHashMap<>(h);
          bigHeaders.put("parley-id", "01a20000-0000-7000-8000-0000000000fd");
          raw.sendWithReceipt(bigHeaders, big);
        }
        raw.sendWithReceipt(h, "{\"orderId\":\"o-" + i + "\",\"total\":1}");
      }

      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 20);
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(10))
          .until(() -> transport.reconnects() == 0);
      assertThat(handler.payloads()).extracting(OrderCreated::orderId).doesNotContain("big");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> parley.metrics().deadLettered() == 1 && parley.metrics().received() == 21);
      subscription.close();
      raw.subscribe("9", subscribeQueue(prefix + "big.events.kitchen.dlq"));
      RawStomp.Frame letter = raw.next("MESSAGE");
      assertThat(letter.headers())
          .containsEntry("parley-error-code", "parley.message.too_large")
          .containsEntry(idHeader(), "01a20000-0000-7000-8000-0000000000fd")
          .containsEntry("content-type", "application/json")
          .containsEntry("parley-original-channel", prefix + "big.events")
          .containsEntry("parley-attempt", "1");
      assertThat(letter.body()).isEqualTo(big);
    }

    /**
     * More messages too large to read than the subscription's prefetch, among ordinary ones: every
     * ordinary one is handled and every large one dead-lettered whole. Until 2026-12-07 RabbitMQ's
     * were left unacknowledged at the broker, each holding one of the prefetch: two of them stopped
     * this subscription for as long as its connection lived.
     */
    @Test
    void moreLargeMessagesThanThePrefetchStopNothing() throws IOException {
      connectReadingFramesOfAtMost(64 * 1024);
      Channel<OrderCreated> events = Channel.event(prefix + "bigs.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      Subscription subscription =
          parley.subscribe(
              events,
              "kitchen",
              handler,
              parley.defaultSubscriptionOptions().withConcurrency(1).withPrefetch(2));
      String big = "{\"orderId\":\"big\",\"total\":1,\"pad\":\"" + "y".repeat(100_000) + "\"}";
      List<String> bigIds = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        Map<String, String> h = publishEvent(prefix + "bigs.events");
        h.put("content-type", "application/json");
        if (i % 4 == 1) {
          Map<String, String> bigHeaders = new LinkedHashMap<>(h);
          String id = String.format("01a20000-0000-7000-8000-0000000001%02d", i);
          bigHeaders.put("parley-id", id);
          bigIds.add(id);
          raw.sendWithReceipt(bigHeaders, big);
        }
        raw.sendWithReceipt(h, "{\"orderId\":\"o-" + i + "\",\"total\":1}");
      }

      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 20);
      assertThat(handler.payloads()).extracting(OrderCreated::orderId).doesNotContain("big");
      assertThat(transport.reconnects()).isZero();
      subscription.close();
      raw.subscribe("9", subscribeQueue(prefix + "bigs.events.kitchen.dlq"));
      List<String> letters = new ArrayList<>();
      for (int i = 0; i < bigIds.size(); i++) {
        RawStomp.Frame letter = raw.next("MESSAGE");
        assertThat(letter.headers()).containsEntry("parley-error-code", "parley.message.too_large");
        assertThat(letter.body()).isEqualTo(big);
        letters.add(letter.headers().get(idHeader()));
        raw.ack(letter); // Artemis holds the next back while the window is full
      }
      assertThat(letters).containsExactlyInAnyOrderElementsOf(bigIds);
    }

    /**
     * A reply larger than the caller's transport reads fails the call at once, not retryable
     * ({@code parley.message.too_large}), instead of at its deadline (until 2026-12-07 it waited,
     * and a retry policy called again for the same reply); the next call is answered.
     */
    @Test
    void aReplyLargerThanTheCallerReadsFailsTheCallAtOnce() throws Exception {
      connectReadingFramesOfAtMost(64 * 1024); // the caller
      OversizeScenarios.aReplyOverTheCallersLimitFailsTheCallAtOnce(
          parley, anotherService("billing-service"), prefix + "bigreply.commands", 100_000);
      assertThat(transport.reconnects()).isZero();
    }

    static Messaging messaging(String service, StompTransport transport) {
      return Messaging.builder()
          .service(service)
          .transport(transport)
          .codecs(Codecs.of(JsonCodec.of()))
          .build();
    }

    /** Whether the broker routes by {@code CC}/{@code BCC} headers (RabbitMQ does). */
    boolean routesByCcHeaders() {
      return false;
    }

    /**
     * RabbitMQ routes a message also by its {@code CC} and {@code BCC} headers and refuses a SEND
     * whose value is text with an ERROR that closes the connection: there a message with such a
     * header is refused at the sender with a typed error, no connection lost, and the sends around
     * it go through; on Artemis they are headers like any other. Until 2026-12-07 the SEND went out
     * and RabbitMQ closed the connection under every subscription, the send failing as a retryable
     * {@code TransportException}.
     */
    @Test
    void aHeaderTheBrokerRoutesByIsRefusedAtTheSenderOnly() throws Exception {
      connect();
      Channel<OrderCreated> events = Channel.event(prefix + "cc.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      parley.subscribe(events, "kitchen", handler);
      List<CompletableFuture<?>> good = new ArrayList<>();
      List<CompletableFuture<Void>> odd = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        good.add(parley.publish(events, new OrderCreated("o-" + i, i)));
        if (i == 10) {
          for (String name : List.of("CC", "BCC")) {
            dev.parley.message.Message m =
                parley.encode(events, new OrderCreated("odd-" + name, 0)).toBuilder()
                    .header(name, "billing.events")
                    .build();
            odd.add(parley.forward(new Destination.Event(prefix + "cc.events"), m));
          }
        }
      }
      CompletableFuture.allOf(good.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
      if (routesByCcHeaders()) {
        for (CompletableFuture<Void> r : odd) {
          assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS))
              .cause()
              .isInstanceOfSatisfying(
                  BadInputException.class,
                  e -> assertThat(e.errorCode()).isEqualTo("parley.header.reserved"));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 20);
      } else {
        CompletableFuture.allOf(odd.toArray(new CompletableFuture<?>[0])).get(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 22);
        assertThat(handler.calls())
            .filteredOn(c -> c.payload().orderId().startsWith("odd-"))
            .extracting(
                c -> c.context().message().headers().get(c.payload().orderId().substring(4)))
            .containsExactly("billing.events", "billing.events");
      }
      assertThat(transport.reconnects()).as("connections lost").isZero();
    }

    /**
     * A request larger than the responder's transport reads is dead-lettered whole there, and its
     * caller hears so at once — a failure reply {@code parley.message.too_large} — instead of
     * waiting for its deadline (until 2026-12-07 it waited, and the dead letter was not counted);
     * the responder answers the next request.
     */
    @Test
    void aRequestLargerThanTheResponderReadsIsAnsweredWithTheFailure() throws Exception {
      connectReadingFramesOfAtMost(64 * 1024); // the responder
      OversizeScenarios.aRequestOverTheRespondersLimitIsAnsweredWithTheFailure(
          anotherService("billing-service"), parley, prefix + "big.commands", 100_000);
    }

    /**
     * A foreign sender's message that the broker delivers with headers that mean something on a
     * SEND — RabbitMQ keeps a transactional SEND's {@code transaction} header, and any {@code
     * durable}, {@code auto-delete}, {@code exclusive} or {@code expiration} line, in the message —
     * is dead-lettered once like any bad input, and its dead letter keeps none of them. Found
     * 2026-12-07: the dead letter's SEND carried {@code transaction:t1}, which RabbitMQ answers
     * with an ERROR "Bad transaction" that names no receipt; the send timed out, the message went
     * back, and came again: a redelivery loop, one send timeout a turn.
     */
    @Test
    void aForeignTransactionalSendersBadMessageIsDeadLetteredOnce() throws IOException {
      connect();
      Channel<OrderCreated> events = Channel.event(prefix + "tx.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      parley.subscribe(events, "kitchen", handler);
      Map<String, String> h = publishEvent(prefix + "tx.events");
      h.put("parley-id", "01a20000-0000-7000-8000-0000000000aa");
      h.put("content-type", "application/json");
      h.put("transaction", "t1");
      h.put("durable", "false");
      h.put("auto-delete", "true");
      h.put("exclusive", "true");
      h.put("expiration", "600000");
      raw.write("BEGIN", headers("transaction", "t1"), "");
      raw.write("SEND", h, "{not json");
      Map<String, String> good = publishEvent(prefix + "tx.events");
      good.put("content-type", "application/json");
      good.put("transaction", "t1");
      raw.write("SEND", good, "{\"orderId\":\"o-1\",\"total\":1}");
      raw.write("COMMIT", headers("transaction", "t1", "receipt", "c1"), "");
      raw.next("RECEIPT");

      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 1);
      raw.subscribe("9", subscribeQueue(prefix + "tx.events.kitchen.dlq"));
      RawStomp.Frame letter = raw.next("MESSAGE");
      assertThat(letter.headers())
          .containsEntry("parley-error-code", "parley.codec.malformed")
          .containsEntry(idHeader(), "01a20000-0000-7000-8000-0000000000aa")
          .doesNotContainKeys("transaction", "durable", "auto-delete", "exclusive", "expiration");
      assertThat(letter.body()).isEqualTo("{not json");
      assertThat(transport.reconnects()).isZero();
      assertThat(parley.metrics().deadLettered()).isEqualTo(1);
    }

    @Test
    void foreignClientConsumesWhatParleyPublishes() throws IOException {
      Channel<OrderCreated> events = orderEventsWatchedByARawGroup();

      dev.parley.message.Message sent = parley.publish(events, new OrderCreated("o-9", 99)).join();

      RawStomp.Frame m = raw.next("MESSAGE");
      assertThat(m.body()).isEqualTo("{\"orderId\":\"o-9\",\"total\":99}");
      assertThat(m.headers())
          .containsEntry(idHeader(), sent.id())
          .containsEntry(typeHeader(), "order.OrderCreated")
          .containsEntry("content-type", "application/json")
          .containsEntry(sourceHeader(), "kitchen-service")
          .doesNotContainKey("parley-channel"); // the subscriber knows its channel
      raw.ack(m);
    }

    /** Parley serving the kitchen's commands: each CreateTicket answered with its ticket. */
    void serveTickets() {
      parley.serve(
          Channel.command(prefix + "kitchen.commands", CreateTicket.class),
          (CreateTicket c, MessageContext ctx) -> new TicketCreated("t-" + c.orderId()));
    }

    /**
     * The reply to a raw client's request for a ticket for {@code orderId} (JSON, with {@code
     * headers} added), served by Parley and received, then acknowledged, on the raw client's queue
     * {@code my.replies} (which the service allows).
     */
    RawStomp.Frame replyToARawRequest(String orderId, String... headers) throws IOException {
      connect();
      serveTickets();
      raw.subscribe("r", subscribeQueue(prefix + "my.replies"));
      Map<String, String> h = sendCommand(prefix + "kitchen.commands");
      h.putAll(headers(headers));
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"orderId\":\"" + orderId + "\"}");
      RawStomp.Frame reply = raw.next("MESSAGE");
      assertThat(reply.headers()).containsEntry("subscription", "r");
      assertThat(reply.body()).isEqualTo("{\"ticketId\":\"t-" + orderId + "\"}");
      raw.ack(reply);
      return reply;
    }

    @Test
    void foreignClientRequestsAndParleyReplies() throws IOException {
      RawStomp.Frame reply =
          replyToARawRequest(
              "o-5",
              "parley-id",
              "01a20000-0000-7000-8000-000000000005",
              "parley-reply-to",
              prefix + "my.replies",
              "parley-deadline",
              Long.toString(System.currentTimeMillis() + 30_000));
      assertThat(reply.headers())
          .containsEntry(correlationHeader(), "01a20000-0000-7000-8000-000000000005")
          .doesNotContainKey("parley-status"); // a reply without a status is OK
    }

    /** A requester that matches replies by a correlation id of its own gets it back. */
    @Test
    void aForeignCallersOwnCorrelationIdComesBack() throws IOException {
      RawStomp.Frame reply =
          replyToARawRequest(
              "o-7", "correlation-id", "order-rpc-7", "parley-reply-to", prefix + "my.replies");
      assertThat(reply.headers()).containsEntry(correlationHeader(), "order-rpc-7");
    }

    /**
     * A STOMP client's own {@code reply-to} (no {@code parley-reply-to}) names its reply address,
     * answered when the service allows it (the allow-list of RELIABILITY.md S6 applies as to any
     * reply address).
     */
    @Test
    void aStompCallersReplyToHeaderIsItsReplyAddress() throws IOException {
      RawStomp.Frame reply =
          replyToARawRequest(
              "o-2", "reply-to", replyTo(prefix + "my.replies"), "correlation-id", "rpc-2");
      assertThat(reply.headers()).containsEntry(correlationHeader(), "rpc-2");
    }

    record Taken(CompletableFuture<TicketCreated> reply, RawStomp.Frame request) {}

    /** A Parley request on {@code commands}, taken (and acknowledged) by the raw client. */
    Taken takenByTheRawClient(Channel<CreateTicket> commands) throws IOException {
      raw.subscribe("c", subscribeQueue(commands.name()));
      CompletableFuture<TicketCreated> reply =
          parley.request(
              commands, new CreateTicket("o-7"), TicketCreated.class, Duration.ofSeconds(30));
      RawStomp.Frame request = raw.next("MESSAGE");
      raw.ack(request);
      return new Taken(reply, request);
    }

    @Test
    void foreignClientAnswersParleyRequests() throws IOException {
      connect();
      Taken taken =
          takenByTheRawClient(Channel.command(prefix + "kitchen.commands", CreateTicket.class));
      RawStomp.Frame request = taken.request();
      assertThat(request.headers().get("parley-reply-to"))
          .startsWith("parley.reply.kitchen-service.");
      // Its reply confirms a request: it was sent without a receipt, which RabbitMQ's plugin would
      // have copied into the message (wire.md §8.1).
      assertThat(request.headers()).doesNotContainKey("receipt");
      Map<String, String> h = answer(request.headers().get("parley-reply-to"));
      h.put("parley-correlation-id", request.headers().get(idHeader()));
      h.put("parley-reply-token", request.headers().get("parley-reply-token")); // wire.md §3
      h.put("parley-status", "OK");
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"ticketId\":\"t-77\"}");

      assertThat(taken.reply())
          .succeedsWithin(Duration.ofSeconds(30))
          .isEqualTo(new TicketCreated("t-77"));
    }

    /**
     * A STOMP responder that knows nothing of Parley answers with the request's {@code
     * correlation-id} (and its body's content type) on a channel with replies by correlation id.
     */
    @Test
    void aResponderThatEchoesTheCorrelationIdAnswersAChannelWithRepliesByCorrelationId()
        throws IOException {
      connect();
      Taken taken =
          takenByTheRawClient(
              Channel.command(prefix + "legacy.rpc", CreateTicket.class)
                  .withRepliesByCorrelationId());
      RawStomp.Frame request = taken.request();
      assertThat(request.headers().get("correlation-id")).hasSize(22);
      assertThat(request.headers()).doesNotContainKey("parley-reply-token");
      Map<String, String> h = answer(request.headers().get("parley-reply-to"));
      h.put("correlation-id", request.headers().get("correlation-id"));
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"ticketId\":\"t-88\"}");

      assertThat(taken.reply())
          .succeedsWithin(Duration.ofSeconds(30))
          .isEqualTo(new TicketCreated("t-88"));
      assertThat(parley.metrics().forgedReplies()).isZero();
    }
  }

  @Nested
  class OnArtemis extends Contract {
    @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

    /**
     * A request a JMS client sent with none of Parley's headers (its id, reply address and time to
     * live in the message's own fields only) keeps them over STOMP: Artemis renders them as {@code
     * NATIVE_MESSAGE_ID}, {@code reply-to: queue://…} and {@code expires} (wire.md §8.2); the
     * reply's correlation id is the request's id. Before, the request got a new id on every
     * delivery and its reply address was refused.
     */
    @Test
    void anAmqpCallersRequestKeepsItsIdReplyAddressAndDeadline() throws Exception {
      connect();
      CompletableFuture<MessageContext> seen = new CompletableFuture<>();
      parley.serve(
          Channel.command(prefix + "kitchen.commands", CreateTicket.class),
          (CreateTicket c, MessageContext ctx) -> {
            seen.complete(ctx);
            return new TicketCreated("t-" + c.orderId());
          });
      try (jakarta.jms.Connection jms =
          new org.apache.qpid.jms.JmsConnectionFactory(
                  broker.amqpUri()
                      + "?jms.validatePropertyNames=false"
                      + "&jms.messageIDPolicy.messageIDType=UUID_STRING")
              .createConnection()) {
        jms.start();
        jakarta.jms.Session session =
            jms.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
        jakarta.jms.Queue replies = session.createQueue(prefix + "my.replies");
        jakarta.jms.MessageConsumer replyConsumer = session.createConsumer(replies);
        jakarta.jms.BytesMessage request = session.createBytesMessage();
        request.writeBytes("{\"orderId\":\"o-8\"}".getBytes(StandardCharsets.UTF_8));
        request.setStringProperty("content-type", "application/json");
        request.setJMSReplyTo(replies);
        session
            .createProducer(session.createQueue(prefix + "kitchen.commands"))
            .send(
                request,
                jakarta.jms.DeliveryMode.PERSISTENT,
                jakarta.jms.Message.DEFAULT_PRIORITY,
                30_000);
        String sentId = request.getJMSMessageID().replaceFirst("^ID:(AMQP_NO_PREFIX:)?", "");

        jakarta.jms.Message reply = replyConsumer.receive(30_000);
        assertThat(reply).isNotNull();
        assertThat(Dialect.Artemis.amqpId(reply.getJMSCorrelationID())).isEqualTo(sentId);
        MessageContext ctx = seen.get(30, TimeUnit.SECONDS);
        assertThat(ctx.message().id()).isEqualTo(sentId);
        assertThat(ctx.message().headers()).doesNotContainKey(Dialect.Artemis.NATIVE_MESSAGE_ID);
        assertThat(ctx.deadline())
            .contains(java.time.Instant.ofEpochMilli(request.getJMSExpiration()));
      }
    }

    @Override
    URI uri() {
      return broker.stompUri();
    }

    @Override
    String virtualHost() {
      return "localhost";
    }

    @Override
    Map<String, String> publishEvent(String channel) {
      return headers("destination", channel, "destination-type", "MULTICAST");
    }

    @Override
    Map<String, String> subscribeGroup(String channel, String group) {
      return headers(
          "destination", channel + "::" + channel + "." + group, "subscription-type", "MULTICAST");
    }

    @Override
    Map<String, String> sendCommand(String queue) {
      return headers("destination", queue, "destination-type", "ANYCAST");
    }

    @Override
    Map<String, String> subscribeQueue(String queue) {
      return headers("destination", queue, "subscription-type", "ANYCAST");
    }

    @Override
    Map<String, String> answer(String replyQueue) {
      return headers("destination", replyQueue, "destination-type", "ANYCAST");
    }

    @Override
    String replyTo(String queue) {
      return queue; // Artemis passes reply-to on as it is (no /temp-queue/ of its own; probed)
    }

    @Override
    String idHeader() {
      return "parley-id";
    }

    @Override
    String typeHeader() {
      return "parley-type";
    }

    @Override
    String correlationHeader() {
      return "parley-correlation-id";
    }

    @Override
    String sourceHeader() {
      return "parley-source";
    }
  }

  @Nested
  class OnRabbitMq extends Contract {
    @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

    @Override
    boolean routesByCcHeaders() {
      return true;
    }

    @Override
    URI uri() {
      return URI.create("stomp://guest:guest@127.0.0.1:61613/" + rabbit.vhost());
    }

    @Override
    String virtualHost() {
      return rabbit.vhost();
    }

    @Override
    Map<String, String> publishEvent(String channel) {
      return headers("destination", "/topic/" + channel + "._");
    }

    @Override
    Map<String, String> subscribeGroup(String channel, String group) {
      return headers(
          "destination",
          "/topic/" + channel + ".*",
          "x-queue-name",
          channel + "." + group,
          "durable",
          "true",
          "auto-delete",
          "false");
    }

    @Override
    Map<String, String> sendCommand(String queue) {
      return headers("destination", "/queue/" + queue);
    }

    @Override
    Map<String, String> subscribeQueue(String queue) {
      return headers("destination", "/queue/" + queue);
    }

    @Override
    Map<String, String> answer(String replyQueue) {
      return headers("destination", "/amq/queue/" + replyQueue);
    }

    @Override
    String replyTo(String queue) {
      return "/queue/" + queue;
    }

    @Override
    String idHeader() {
      return "amqp-message-id";
    }

    @Override
    String typeHeader() {
      return "type";
    }

    @Override
    String correlationHeader() {
      return "correlation-id";
    }

    @Override
    String sourceHeader() {
      return "app-id";
    }

    /**
     * RabbitMQ's STOMP request/reply (its docs' "temp queue destinations", what stomp.js RPC
     * clients use): the caller sends {@code reply-to:/temp-queue/<name>}, the plugin makes an
     * exclusive queue for it and shows the responder {@code reply-to:/reply-queue/amq.gen-…}, a
     * queue only that caller can consume, so a Parley responder answers it without an allow-list
     * entry.
     */
    @Test
    void aStompCallersTempQueueIsAnswered() throws IOException {
      connect();
      serveTickets();

      Map<String, String> h = sendCommand(prefix + "kitchen.commands");
      h.put("reply-to", "/temp-queue/rpc");
      h.put("correlation-id", "rpc-1");
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"orderId\":\"o-1\"}");
      RawStomp.Frame reply = raw.next("MESSAGE");
      assertThat(reply.headers())
          .containsEntry("subscription", "/temp-queue/rpc")
          .containsEntry("correlation-id", "rpc-1");
      assertThat(reply.body()).isEqualTo("{\"ticketId\":\"t-o-1\"}");
    }

    /**
     * The plugin writes a NUL byte of an AMQP 0-9-1 header into the MESSAGE as it is, where STOMP
     * cannot escape it (probed 2026-12-06). One such message from an AMQP 0-9-1 publisher must not
     * cost the STOMP consumer its connection: dead-lettered once while the others flow.
     */
    @Test
    void anAmqpHeaderWithANulByteIsDeadLetteredOnceNotAConnectionLost() throws Exception {
      connect();
      Channel<OrderCreated> events = Channel.event(prefix + "nul.events", OrderCreated.class);
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      parley.subscribe(events, "kitchen", handler);
      ConnectionFactory factory = new ConnectionFactory();
      factory.setUri(rabbit.amqpUri());
      try (Connection connection = factory.newConnection()) {
        com.rabbitmq.client.Channel ch = connection.createChannel();
        for (int i = 0; i < 20; i++) {
          if (i == 10) {
            ch.basicPublish(
                "amq.topic",
                prefix + "nul.events._",
                new AMQP.BasicProperties.Builder()
                    .contentType("application/json")
                    .messageId("01a20000-0000-7000-8000-0000000000fc")
                    .headers(Map.of("note", "a\u0000b"))
                    .build(),
                "{\"orderId\":\"nul\",\"total\":1}".getBytes(StandardCharsets.UTF_8));
          }
          ch.basicPublish(
              "amq.topic",
              prefix + "nul.events._",
              new AMQP.BasicProperties.Builder().contentType("application/json").build(),
              ("{\"orderId\":\"o-" + i + "\",\"total\":1}").getBytes(StandardCharsets.UTF_8));
        }
        String dlq = prefix + "nul.events.kitchen.dlq";
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> handler.callCount() == 20 && messageCount(connection, dlq) == 1);
        assertThat(transport.reconnects()).as("connections lost").isZero();
        com.rabbitmq.client.GetResponse letter = ch.basicGet(dlq, true);
        assertThat(String.valueOf(letter.getProps().getHeaders().get("parley-error-code")))
            .isEqualTo("parley.header.invalid");
        assertThat(letter.getProps().getMessageId())
            .isEqualTo("01a20000-0000-7000-8000-0000000000fc");
      }
    }

    /**
     * A dead-letter queue's own subscription reads past dead letters too large for it, however
     * many: no copy is made there, so each is left unacknowledged at the broker, holding one of the
     * subscription's prefetch. Until 2026-12-07 two of them (the prefetch here) stopped it for as
     * long as its connection lived, and again after every reconnect, as they come first (4 of the
     * 20 read); now the subscription is made again beside them on the same connection.
     */
    @Test
    void moreDeadLettersTooLargeToReadThanThePrefetchStopNothing() throws Exception {
      transport = StompTransport.builder(uri()).maxFrameBytes(64 * 1024).build();
      parley =
          Messaging.builder()
              .service("kitchen-service")
              .transport(transport)
              .codecs(Codecs.of(JsonCodec.of()))
              .subscriptionOptions(SubscriptionOptions.defaults().withPrefetch(2))
              .build();
      Channel<OrderCreated> events = Channel.event(prefix + "bigdead.events", OrderCreated.class);
      String dlq = prefix + "bigdead.events.kitchen.dlq";
      byte[] big = "z".repeat(100_000).getBytes(StandardCharsets.UTF_8);
      List<String> read = new java.util.concurrent.CopyOnWriteArrayList<>();
      parley.subscribe(events, "kitchen", RecordingHandler.succeeding()); // declares the queues
      Subscription letters =
          parley.subscribeDeadLetters(events, "kitchen", letter -> read.add(letter.id()));
      ConnectionFactory factory = new ConnectionFactory();
      factory.setUri(rabbit.amqpUri());
      try (Connection connection = factory.newConnection()) {
        com.rabbitmq.client.Channel ch = connection.createChannel();
        for (int i = 0; i < 20; i++) {
          if (i % 4 == 0) { // 5 of them, among the first 17
            ch.basicPublish(
                "",
                dlq,
                new AMQP.BasicProperties.Builder().deliveryMode(2).messageId("big-" + i).build(),
                big);
          }
          ch.basicPublish(
              "",
              dlq,
              new AMQP.BasicProperties.Builder()
                  .deliveryMode(2)
                  .messageId("dead-" + i)
                  .contentType("application/json")
                  .build(),
              "{\"orderId\":\"o\",\"total\":1}".getBytes(StandardCharsets.UTF_8));
        }
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(read).as("dead letters read").hasSize(20));
        assertThat(read).doesNotHaveDuplicates().noneMatch(id -> id.startsWith("big-"));
        assertThat(transport.reconnects()).as("connections lost").isZero();
        letters.close(); // gives the large ones back to the queue
        // Left in place, whole, for an operator (or a reader that takes larger messages).
        await().atMost(Duration.ofSeconds(30)).until(() -> messageCount(connection, dlq) == 5);
        List<String> left = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          com.rabbitmq.client.GetResponse letter = ch.basicGet(dlq, true);
          left.add(letter.getProps().getMessageId());
          assertThat(letter.getBody()).isEqualTo(big);
        }
        assertThat(left).containsExactlyInAnyOrder("big-0", "big-4", "big-8", "big-12", "big-16");
      }
    }

    /** On a channel of its own: a passive declare of a missing queue closes its channel. */
    private static long messageCount(Connection connection, String queue) throws Exception {
      com.rabbitmq.client.Channel ch = connection.createChannel();
      try {
        return ch.queueDeclarePassive(queue).getMessageCount();
      } catch (IOException e) {
        return -1; // not declared yet
      } finally {
        if (ch.isOpen()) {
          ch.close();
        }
      }
    }

    /**
     * An AMQP 0-9-1 caller over direct reply-to (the RPC tutorial's client, Spring's
     * AsyncRabbitTemplate) calls an operation a Parley service serves over STOMP: the plugin shows
     * its {@code reply_to} as {@code reply-to:/reply-queue/amq.rabbitmq.reply-to.…}.
     */
    @Test
    void anAmqpCallerOverDirectReplyToIsAnswered() throws Exception {
      connect();
      serveTickets();
      ConnectionFactory factory = new ConnectionFactory();
      factory.setUri(rabbit.amqpUri());
      try (Connection connection = factory.newConnection()) {
        com.rabbitmq.client.Channel ch = connection.createChannel();
        CompletableFuture<Delivery> reply = new CompletableFuture<>();
        ch.basicConsume("amq.rabbitmq.reply-to", true, (tag, d) -> reply.complete(d), tag -> {});
        ch.basicPublish(
            "",
            prefix + "kitchen.commands",
            new AMQP.BasicProperties.Builder()
                .replyTo("amq.rabbitmq.reply-to")
                .correlationId("amqp-rpc-1")
                .contentType("application/json")
                .build(),
            "{\"orderId\":\"o-3\"}".getBytes(StandardCharsets.UTF_8));
        Delivery d = reply.get(30, TimeUnit.SECONDS);
        assertThat(d.getProperties().getCorrelationId()).isEqualTo("amqp-rpc-1");
        assertThat(new String(d.getBody(), StandardCharsets.UTF_8))
            .isEqualTo("{\"ticketId\":\"t-o-3\"}");
      }
    }

    /**
     * Parley's id, type, source and a reply's correlation id travel as the properties RabbitMQ has
     * for them (wire.md §8.3), not also as {@code parley-…} lines; a foreign client (or Parley's
     * AMQP 0-9-1 transport) that sets only those properties is read the same.
     */
    @Test
    void idTypeSourceAndCorrelationTravelAsRabbitMqProperties() throws IOException {
      Channel<OrderCreated> events = orderEventsWatchedByARawGroup();
      RecordingHandler<OrderCreated> handler = RecordingHandler.succeeding();
      parley.subscribe(events, "kitchen", handler);

      dev.parley.message.Message sent = parley.publish(events, new OrderCreated("o-3", 3)).join();
      RawStomp.Frame m = raw.next("MESSAGE");
      assertThat(m.headers())
          .doesNotContainKeys("parley-id", "parley-type", "parley-source")
          .containsEntry("amqp-message-id", sent.id());
      raw.ack(m);
      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 1);
      assertThat(handler.calls().get(0).context().message().id()).isEqualTo(sent.id());
      assertThat(handler.calls().get(0).context().message().headers())
          .containsEntry("parley-type", "order.OrderCreated")
          .containsEntry("parley-source", "kitchen-service")
          .doesNotContainKeys("amqp-message-id", "app-id");

      Map<String, String> h = publishEvent(prefix + "order.events");
      h.put("amqp-message-id", "01a20000-0000-7000-8000-000000000009");
      h.put("type", "order.OrderCreated");
      h.put("app-id", "billing-service");
      h.put("content-type", "application/json");
      raw.sendWithReceipt(h, "{\"orderId\":\"o-4\",\"total\":4}");
      await().atMost(Duration.ofSeconds(30)).until(() -> handler.callCount() == 2);
      assertThat(handler.calls().get(1).context().message().id())
          .isEqualTo("01a20000-0000-7000-8000-000000000009");
      assertThat(handler.calls().get(1).context().message().headers())
          .containsEntry("parley-type", "order.OrderCreated")
          .containsEntry("parley-source", "billing-service");
    }
  }

  static Map<String, String> headers(String... pairs) {
    Map<String, String> h = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      h.put(pairs[i], pairs[i + 1]);
    }
    return h;
  }

  /** STOMP 1.2 by hand: enough of it for these tests, and nothing of Parley's. */
  static final class RawStomp implements AutoCloseable {
    record Frame(String command, Map<String, String> headers, String body) {}

    private final Socket socket;
    private final InputStream in;
    private int receipts;

    private RawStomp(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      socket.setSoTimeout(30_000);
    }

    static RawStomp connect(String host, int port, String vhost) throws IOException {
      RawStomp s = new RawStomp(new Socket(host, port));
      s.write(
          "CONNECT",
          headers(
              "accept-version",
              "1.2",
              "host",
              vhost,
              "login",
              "guest",
              "passcode",
              "guest",
              "heart-beat",
              "0,0"),
          "");
      s.next("CONNECTED");
      return s;
    }

    void subscribe(String id, Map<String, String> h) throws IOException {
      Map<String, String> all = new LinkedHashMap<>(h);
      all.put("id", id);
      all.put("ack", "client-individual");
      all.put("receipt", "sub-" + id);
      write("SUBSCRIBE", all, "");
      next("RECEIPT");
    }

    void sendWithReceipt(Map<String, String> h, String body) throws IOException {
      Map<String, String> all = new LinkedHashMap<>(h);
      all.put("receipt", "send-" + ++receipts);
      all.put("persistent", "true");
      write("SEND", all, body);
      next("RECEIPT");
    }

    void ack(Frame message) throws IOException {
      write("ACK", headers("id", message.headers().get("ack")), "");
    }

    void write(String command, Map<String, String> h, String body) throws IOException {
      StringBuilder f = new StringBuilder(command).append('\n');
      // STOMP 1.2 escapes '\\' and ':' in header values (FQQNs on Artemis contain "::").
      h.forEach(
          (k, v) ->
              f.append(k)
                  .append(':')
                  .append(
                      command.equals("CONNECT") ? v : v.replace("\\", "\\\\").replace(":", "\\c"))
                  .append('\n'));
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      if (!command.equals("CONNECT")) {
        f.append("content-length:").append(bytes.length).append('\n');
      }
      f.append('\n');
      socket.getOutputStream().write(f.toString().getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().write(bytes);
      socket.getOutputStream().write(0);
      socket.getOutputStream().flush();
    }

    /** MESSAGE frames that arrived while a RECEIPT was awaited (a reply can beat the receipt). */
    private final java.util.ArrayDeque<Frame> early = new java.util.ArrayDeque<>();

    /**
     * The next frame, which must be a {@code command} (heart-beat newlines skipped). Waiting for a
     * RECEIPT, MESSAGE frames that come first are kept for the next {@code next("MESSAGE")}.
     */
    Frame next(String command) throws IOException {
      if (!command.equals("RECEIPT") && !early.isEmpty()) {
        Frame f = early.poll();
        assertThat(f.command()).as(f.toString()).isEqualTo(command);
        return f;
      }
      while (true) {
        Frame f = read();
        if (command.equals("RECEIPT") && f.command().equals("MESSAGE")) {
          early.add(f);
          continue;
        }
        assertThat(f.command()).as(f.toString()).isEqualTo(command);
        return f;
      }
    }

    private Frame read() throws IOException {
      ByteArrayOutputStream frame = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) == '\n' || b == '\r') {
        // heart-beat
      }
      while (b != 0) {
        if (b < 0) {
          throw new IOException("connection closed");
        }
        frame.write(b);
        b = in.read();
      }
      String text = frame.toString(StandardCharsets.UTF_8);
      int blank = text.indexOf("\n\n");
      String[] lines = text.substring(0, blank).split("\n");
      Map<String, String> h = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        h.putIfAbsent(
            lines[i].substring(0, colon),
            lines[i].substring(colon + 1).replace("\\c", ":").replace("\\\\", "\\"));
      }
      return new Frame(lines[0], h, text.substring(blank + 2));
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
