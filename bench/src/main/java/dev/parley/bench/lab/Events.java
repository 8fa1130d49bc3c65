package dev.parley.bench.lab;

import com.rabbitmq.client.AMQP;
import dev.parley.bench.lab.Measure.Call;
import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.jdbc.Inbox;
import dev.parley.jdbc.Outbox;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.transport.amqp.AmqpTransport;
import dev.parley.transport.rabbitmq.RabbitTransport;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.stomp.StompTransport;
import jakarta.jms.BytesMessage;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.io.IOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * One-way events, publish → consume, as a {@link Call} that completes when the consumer has the
 * event: Parley's publish and subscribe on each transport beside the raw client doing the same
 * (persistent, confirmed sends; acknowledged consumption), and Parley through the outbox and the
 * inbox on PostgreSQL.
 */
final class Events implements AutoCloseable {

  /** The event on every side, JSON. */
  record Event(long id, String text) {}

  static final String TEXT = "x".repeat(200);
  static final int PREFETCH = 256;

  /** The transports by name, as the tables show them. */
  static final Map<String, String> LABELS =
      Map.of(
          "amqp", "AMQP 1.0 (embedded Artemis)",
          "rabbit", "RabbitMQ (quorum queue)",
          "stomp", "STOMP (RabbitMQ)");

  private final Resources resources = new Resources();
  private final List<Pair> pairs = new ArrayList<>();

  /** The run's queues and exchanges on the shared RabbitMQ, which its cleanup deletes. */
  private final List<String> rabbitQueues;

  private final List<String> rabbitExchanges;
  private final String run;
  private final AtomicLong ids = new AtomicLong();

  /** Each transport's factory and Parley publish → consume call, by transport name. */
  private final Map<String, RequestReply.TransportFactory> transports = new LinkedHashMap<>();

  private final Map<String, Call> parleyCalls = new LinkedHashMap<>();

  private final Map<Long, CompletableFuture<Void>> springPending = new ConcurrentHashMap<>();

  /**
   * @param rabbitQueues the run's list of queues to delete at its end, which every queue made here
   *     joins as it is made
   * @param rabbitExchanges the same for exchanges
   */
  Events(
      String run,
      EmbeddedBroker artemis,
      String rabbitUri,
      String stompHost,
      int stompPort,
      List<String> rabbitQueues,
      List<String> rabbitExchanges)
      throws Exception {
    this.run = run;
    this.rabbitQueues = rabbitQueues;
    this.rabbitExchanges = rabbitExchanges;
    URI amqp = artemis.amqpUri();
    URI stomp = URI.create("stomp://guest:guest@" + stompHost + ":" + stompPort + "/");
    transports.put("amqp", () -> AmqpTransport.builder(amqp).build());
    transports.put("rabbit", () -> RabbitTransport.builder(URI.create(rabbitUri)).build());
    transports.put("stomp", () -> StompTransport.builder(stomp).build());
    pairs.add(
        new Pair(
            LABELS.get("amqp"),
            "Qpid JMS 2.10",
            rawJms(amqp, "lab.events.raw.jms." + run),
            parley("amqp")));
    pairs.add(
        new Pair(
            LABELS.get("rabbit"),
            "amqp-client 5.37",
            rawRabbit(rabbitUri, "lab.events.raw.rabbit." + run),
            parley("rabbit")));
    String springQueue = "lab.events.spring.rabbit." + run;
    rabbitQueues.add(springQueue);
    pairs.add(
        new Pair(
            "RabbitMQ (quorum queue), Spring AMQP as the peer",
            "Spring AMQP 3.2.12 RabbitTemplate (correlated confirms) + SimpleMessageListenerContainer",
            SpringPeer.events(
                rabbitUri,
                springQueue,
                resources,
                this::next,
                id -> register(springPending, id),
                id -> complete(springPending, id),
                (id, t) -> fail(springPending, id, t)),
            // Parley's defaults on both sides (8 lanes, prefetch 64; Spring: 1 consumer, 250)
            publishAndConsume(
                "rabbit-spring",
                transports.get("rabbit").create(),
                transports.get("rabbit").create(),
                (e, ctx) -> {},
                SubscriptionOptions.defaults())));
    pairs.add(
        new Pair(
            LABELS.get("stomp"),
            "raw STOMP 1.2 socket",
            rawStomp(stompHost, stompPort, "lab.events.raw.stomp." + run),
            parley("stomp")));
  }

  List<Pair> pairs() {
    return pairs;
  }

  /**
   * Per transport: Parley through the outbox and the inbox on {@code ds} beside Parley without them
   * (diagnostic pairs: open-loop rates from the slower side).
   */
  List<Pair> exactlyOncePairs(DataSource ds) throws Exception {
    List<Pair> result = new ArrayList<>();
    for (String name : transports.keySet()) {
      result.add(
          new Pair(
              LABELS.get(name) + " through the outbox and the inbox (PostgreSQL)",
              "Parley on it without them",
              parleyCalls.get(name),
              exactlyOnce(ds, name),
              true));
    }
    return result;
  }

  private Event next() {
    return new Event(ids.incrementAndGet(), TEXT);
  }

  // ---- Parley -----------------------------------------------------------------------------------

  private Channel<Event> channel(String transport) {
    Channel<Event> channel = Channel.event("lab.events." + transport + "." + run, Event.class);
    rabbitExchanges.add(channel.name());
    rabbitQueues.add(channel.name() + ".lab");
    rabbitQueues.add(channel.name() + ".lab.dlq");
    return channel;
  }

  private Messaging messaging(String service, Transport transport) {
    resources.add(transport);
    Messaging m =
        Messaging.builder()
            .service(service)
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .subscriptionOptions(SubscriptionOptions.defaults().withPrefetch(PREFETCH))
            .build();
    resources.add(m);
    return m;
  }

  private Call parley(String name) throws Exception {
    RequestReply.TransportFactory factory = transports.get(name);
    Call call =
        publishAndConsume(
            name,
            factory.create(),
            factory.create(),
            (e, ctx) -> {},
            SubscriptionOptions.defaults().withPrefetch(PREFETCH));
    parleyCalls.put(name, call);
    return call;
  }

  /**
   * Parley publishing on {@code name}'s channel and a subscriber running {@code handler}: the call
   * completes once the handler has returned.
   */
  private Call publishAndConsume(
      String name,
      Transport publishing,
      Transport consuming,
      dev.parley.messaging.MessageHandler<Event> handler,
      SubscriptionOptions options)
      throws Exception {
    Messaging publisher = messaging("lab-publisher", publishing);
    Messaging subscriber = messaging("lab-subscriber", consuming);
    Channel<Event> channel = channel(name);
    Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    subscriber.subscribe(
        channel,
        "lab",
        (e, ctx) -> {
          handler.handle(e, ctx);
          complete(pending, e.id());
        },
        options);
    Call call =
        () -> {
          Event e = next();
          CompletableFuture<Void> consumed = register(pending, e.id());
          publisher.publish(channel, e).exceptionally(t -> fail(pending, e.id(), t));
          return consumed;
        };
    Measure.closedLoop(call, 10, 10); // the subscription is bound before the clock starts
    return call;
  }

  /**
   * Through the outbox and the inbox: each call is one business transaction writing the event into
   * the outbox, which the relay publishes; the consumer applies it in an inbox transaction, and the
   * call completes when that transaction has committed.
   */
  private Call exactlyOnce(DataSource ds, String name) throws Exception {
    Messaging publisher = messaging("lab-outbox", transports.get(name).create());
    Messaging subscriber = messaging("lab-inbox", transports.get(name).create());
    Channel<Event> channel = channel("outbox." + name);
    // an outbox table per transport: each relay publishes only its own rows
    Outbox outbox =
        Outbox.builder(ds, publisher)
            .tablePrefix("lab_" + name + "_")
            .createSchema(true)
            .build()
            .start();
    resources.add(outbox);
    Inbox inbox = Inbox.builder(ds).tablePrefix("lab_" + name + "_").createSchema(true).build();
    try (Connection c = ds.getConnection();
        java.sql.Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS lab_effects (id BIGINT PRIMARY KEY, text VARCHAR(300))");
    }
    Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    dev.parley.messaging.MessageHandler<Event> applied =
        inbox.handler(
            "lab",
            (e, ctx, c) -> {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO lab_effects (id, text) VALUES (?, ?)")) {
                ps.setLong(1, e.id());
                ps.setString(2, e.text());
                ps.executeUpdate();
              }
            });
    subscriber.subscribe(
        channel,
        "lab",
        (e, ctx) -> {
          applied.handle(e, ctx); // returns once the inbox transaction has committed
          complete(pending, e.id());
        });
    Call exactlyOnce =
        () -> {
          Event e = next();
          CompletableFuture<Void> consumed = register(pending, e.id());
          try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            outbox.publish(c, channel, e);
            c.commit();
          } catch (SQLException ex) {
            fail(pending, e.id(), ex);
          }
          return consumed;
        };
    Measure.closedLoop(exactlyOnce, 10, 10);
    return exactlyOnce;
  }

  /**
   * The consumer with the batching inbox (dedup, effects committed in batches) vs the same consumer
   * applying the same effect without dedup (a transaction per message), both with 32 concurrent
   * deliveries on RabbitMQ, Parley publishing.
   */
  Pair dedup(DataSource ds, String rabbitUri) throws Exception {
    Inbox inbox = Inbox.builder(ds).createSchema(true).batchSize(32).build();
    try (Connection c = ds.getConnection();
        java.sql.Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS lab_dedup (id BIGINT, text VARCHAR(300))");
    }
    dev.parley.jdbc.TransactionalHandler<Event> effect =
        (e, ctx, c) -> {
          try (PreparedStatement ps =
              c.prepareStatement("INSERT INTO lab_dedup (id, text) VALUES (?, ?)")) {
            ps.setLong(1, e.id());
            ps.setString(2, e.text());
            ps.executeUpdate();
          }
        };
    dev.parley.messaging.MessageHandler<Event> batched = inbox.batchingHandler("lab", effect);
    dev.parley.messaging.MessageHandler<Event> plain =
        (e, ctx) -> {
          try (Connection c = ds.getConnection()) {
            effect.handle(e, ctx, c); // autocommit: one transaction per message
          }
        };
    return new Pair(
        "consumer with the batching inbox (PostgreSQL), RabbitMQ, 32 concurrent",
        "the same consumer without dedup",
        consuming("nodedup", rabbitUri, plain),
        consuming("dedup", rabbitUri, batched));
  }

  private Call consuming(
      String name, String rabbitUri, dev.parley.messaging.MessageHandler<Event> handler)
      throws Exception {
    return publishAndConsume(
        name,
        RabbitTransport.builder(URI.create(rabbitUri)).build(),
        RabbitTransport.builder(URI.create(rabbitUri)).build(),
        handler,
        SubscriptionOptions.defaults().withConcurrency(32).withPrefetch(128));
  }

  private static CompletableFuture<Void> register(
      Map<Long, CompletableFuture<Void>> pending, long id) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    pending.put(id, f);
    return f;
  }

  private static void complete(Map<Long, CompletableFuture<Void>> pending, long id) {
    CompletableFuture<Void> f = pending.remove(id);
    if (f != null) {
      f.complete(null);
    }
  }

  private static <T> T fail(Map<Long, CompletableFuture<Void>> pending, long id, Throwable t) {
    CompletableFuture<Void> f = pending.remove(id);
    if (f != null) {
      f.completeExceptionally(t);
    }
    return null;
  }

  // ---- raw clients ------------------------------------------------------------------------------

  /** Qpid JMS: persistent sends with a completion listener, a listener consuming (auto-ack). */
  private Call rawJms(URI amqp, String queue) throws JMSException {
    return rawJms(amqp, queue, false);
  }

  /**
   * {@link #rawJms(URI, String)}; with {@code parleyWire} it sends what Artemis gets from Parley
   * for an event instead: to the channel's multicast address, consumed from the group's queue by
   * its fully qualified name ({@code c::c.lab}), with the four application properties of the wire
   * contract (docs/wire.md: {@code parley-id} as a UUID's text, {@code parley-type}, {@code
   * content-type} — also as the message's content type — and {@code parley-source}). The client,
   * codec and threads stay the raw client's.
   */
  private Call rawJms(URI amqp, String queue, boolean parleyWire) throws JMSException {
    String options = parleyWire ? "?jms.validatePropertyNames=false" : "";
    jakarta.jms.Connection producerConnection = resources.jms(amqp, options);
    jakarta.jms.Connection consumerConnection = resources.jms(amqp, options);
    Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    Session consumerSession = consumerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    consumerSession
        .createConsumer(
            parleyWire
                ? consumerSession.createTopic(queue + "::" + queue + ".lab")
                : consumerSession.createQueue(queue))
        .setMessageListener(
            m -> {
              try {
                Event e =
                    RequestReply.MAPPER.readValue(
                        ((BytesMessage) m).getBody(byte[].class), Event.class);
                complete(pending, e.id());
              } catch (JMSException | IOException ex) {
                throw new IllegalStateException(ex);
              }
            });
    consumerConnection.start();
    Session session = producerConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    MessageProducer producer =
        session.createProducer(
            parleyWire ? session.createTopic(queue) : session.createQueue(queue));
    producer.setDeliveryMode(DeliveryMode.PERSISTENT);
    return () -> {
      Event e = next();
      CompletableFuture<Void> consumed = register(pending, e.id());
      try {
        BytesMessage m = session.createBytesMessage();
        m.writeBytes(RequestReply.MAPPER.writeValueAsBytes(e));
        if (parleyWire) {
          m.setStringProperty("parley-id", java.util.UUID.randomUUID().toString());
          m.setStringProperty("parley-type", Event.class.getName());
          m.setStringProperty("content-type", "application/json");
          m.setStringProperty("parley-source", "lab-publisher");
          RequestReply.nativeContentType(m);
        }
        producer.send(
            m,
            new jakarta.jms.CompletionListener() {
              @Override
              public void onCompletion(jakarta.jms.Message message) {}

              @Override
              public void onException(jakarta.jms.Message message, Exception ex) {
                fail(pending, e.id(), ex);
              }
            });
      } catch (JMSException | IOException ex) {
        fail(pending, e.id(), ex);
      }
      return consumed;
    };
  }

  /**
   * amqp-client: persistent publishes into a quorum queue on a confirm channel (a nack fails the
   * call), a consumer with manual acks, one per message.
   */
  private Call rawRabbit(String uri, String queue) throws Exception {
    com.rabbitmq.client.Connection producerConnection = resources.rabbit(uri, "lab-raw-pub");
    com.rabbitmq.client.Connection consumerConnection = resources.rabbit(uri, "lab-raw-sub");
    rabbitQueues.add(queue);
    Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    com.rabbitmq.client.Channel consumer = consumerConnection.createChannel();
    consumer.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
    consumer.basicQos(PREFETCH);
    consumer.basicConsume(
        queue,
        false,
        (tag, d) -> {
          Event e = RequestReply.MAPPER.readValue(d.getBody(), Event.class);
          consumer.basicAck(d.getEnvelope().getDeliveryTag(), false);
          complete(pending, e.id());
        },
        tag -> {});
    com.rabbitmq.client.Channel producer = producerConnection.createChannel();
    producer.confirmSelect();
    Map<Long, Long> bySequence = new ConcurrentHashMap<>();
    producer.addConfirmListener(
        (seq, multiple) -> forget(bySequence, seq, multiple),
        (seq, multiple) -> {
          for (long id : forget(bySequence, seq, multiple)) {
            fail(pending, id, new IOException("nack"));
          }
        });
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder().deliveryMode(2).contentType("application/json").build();
    return () -> {
      Event e = next();
      CompletableFuture<Void> consumed = register(pending, e.id());
      try {
        bySequence.put(producer.getNextPublishSeqNo(), e.id());
        producer.basicPublish("", queue, props, RequestReply.MAPPER.writeValueAsBytes(e));
      } catch (IOException ex) {
        fail(pending, e.id(), ex);
      }
      return consumed;
    };
  }

  private static List<Long> forget(Map<Long, Long> bySequence, long seq, boolean multiple) {
    List<Long> ids = new ArrayList<>();
    if (multiple) {
      for (Long s : List.copyOf(bySequence.keySet())) {
        if (s <= seq) {
          Long id = bySequence.remove(s);
          if (id != null) {
            ids.add(id);
          }
        }
      }
    } else {
      Long id = bySequence.remove(seq);
      if (id != null) {
        ids.add(id);
      }
    }
    return ids;
  }

  /** A raw STOMP socket: persistent SENDs with receipts, a client-individual subscription. */
  private Call rawStomp(String host, int port, String queue) throws IOException {
    return rawStomp(host, port, queue, false);
  }

  /**
   * The raw STOMP client of {@link #rawStomp(String, int, String)}; with {@code parleyFrames} its
   * SENDs are what the broker gets from Parley for an event: the same destination (amq.topic, the
   * group's queue bound with {@code <channel>.*}) and the three header lines Parley adds to the raw
   * client's (id, type and source as the plugin's {@code amqp-message-id}, {@code type} and {@code
   * app-id}; docs/wire.md §8.3), with values of the same length. The rest — client, codec, threads
   * — stays the raw client's, so beside the plain raw client it measures what Parley's wire
   * contract costs the broker alone.
   */
  private Call rawStomp(String host, int port, String queue, boolean parleyFrames)
      throws IOException {
    rabbitQueues.add(queue);
    RawStomp producer = RawStomp.connect(host, port);
    RawStomp consumer = RawStomp.connect(host, port);
    resources.add(producer);
    resources.add(consumer);
    Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
    String channel = queue + ".channel";
    String destination = parleyFrames ? "/topic/" + channel + "._" : "/queue/" + queue;
    Map<String, String> subscribe;
    if (parleyFrames) {
      subscribe = new LinkedHashMap<>(RawStomp.clientAcked("/topic/" + channel + ".*", PREFETCH));
      subscribe.put("x-queue-name", queue);
      subscribe.put("durable", "true");
      subscribe.put("auto-delete", "false");
    } else {
      subscribe = RawStomp.clientAcked(destination, PREFETCH);
    }
    consumer.write("SUBSCRIBE", subscribe, new byte[0]);
    consumer.loop(
        f -> {
          Event e = RequestReply.MAPPER.readValue(f.body(), Event.class);
          consumer.write("ACK", Map.of("id", f.headers().get("ack")), new byte[0]);
          complete(pending, e.id());
        });
    producer.loop(f -> {}); // receipts: read and dropped (an ERROR is printed)
    return () -> {
      Event e = next();
      CompletableFuture<Void> consumed = register(pending, e.id());
      Map<String, String> h = new LinkedHashMap<>();
      h.put("destination", destination);
      h.put("receipt", Long.toString(e.id()));
      h.put("persistent", "true");
      h.put("content-type", "application/json");
      if (parleyFrames) {
        h.put("amqp-message-id", java.util.UUID.randomUUID().toString());
        h.put("type", "Event");
        h.put("app-id", "lab-publisher");
      }
      try {
        producer.write("SEND", h, RequestReply.MAPPER.writeValueAsBytes(e));
      } catch (IOException ex) {
        fail(pending, e.id(), ex);
      }
      return consumed;
    };
  }

  /**
   * Diagnostic, no goal: the raw STOMP client beside itself sending Parley's frames for an event
   * ({@link #rawStomp(String, int, String, boolean)}) — the rate Parley's wire contract leaves on
   * this broker path, with nothing of Parley's client in it.
   */
  Pair stompWireCost(String host, int port) throws IOException {
    return new Pair(
        "the raw STOMP client sending Parley's frames (RabbitMQ)",
        "the raw STOMP client",
        rawStomp(host, port, "lab.events.raw.stomp.plain." + run, false),
        rawStomp(host, port, "lab.events.raw.stomp.parley." + run, true));
  }

  /**
   * Diagnostic, no goal: raw Qpid JMS beside itself sending what Artemis gets from Parley for an
   * event ({@link #rawJms(URI, String, boolean)}) — the rate Parley's wire contract leaves on this
   * broker path, with nothing of Parley's client in it.
   */
  Pair amqpWireCost(URI amqp) throws JMSException {
    return new Pair(
        "raw Qpid JMS sending Parley's messages (embedded Artemis)",
        "raw Qpid JMS",
        rawJms(amqp, "lab.events.raw.jms.plain." + run, false),
        rawJms(amqp, "lab.events.raw.jms.parley." + run, true));
  }

  @Override
  public void close() {
    resources.close();
  }
}
