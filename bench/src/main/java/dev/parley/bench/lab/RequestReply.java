package dev.parley.bench.lab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.server.Server;
import com.rabbitmq.client.AMQP;
import dev.parley.bench.PolicyBench;
import dev.parley.bench.RpcBench;
import dev.parley.bench.lab.Measure.Call;
import dev.parley.bench.rpc.EchoGrpc;
import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.messaging.Messaging;
import dev.parley.operation.Operation;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import dev.parley.transport.amqp.AmqpTransport;
import dev.parley.transport.rabbitmq.RabbitTransport;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.stomp.StompTransport;
import jakarta.jms.BytesMessage;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One operation — echo a small record — served and called over every binding, each beside the raw
 * stack doing the same work: REST/JSON (bare Armeria + Jackson), gRPC/Protobuf (a grpc-java stub),
 * and request/reply over a broker: AMQP 1.0 on the embedded Artemis (raw Qpid JMS), RabbitMQ (raw
 * amqp-client) and STOMP on RabbitMQ (a raw socket client). Raw and Parley servers run in this
 * process, each side with its own connections.
 */
final class RequestReply implements AutoCloseable {

  /** The operation's input and output on the JSON bindings. */
  record Hello(String text, int number) {}

  static final ObjectMapper MAPPER = new ObjectMapper();
  static final Hello REQUEST = new Hello("hello, parley", 42);
  static final int PREFETCH = 64;
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** A reply token of the length Parley's are (22 characters), for the wire-cost clients. */
  static final String WIRE_TOKEN = "Zm9yLXRoZS13aXJlLWNvc3";

  private static final long WIRE_ID_HIGH =
      java.util.concurrent.ThreadLocalRandom.current().nextLong();

  /**
   * An id as long as Parley's (a UUID's 36 characters of text), made without a random number per
   * call, so the wire-cost clients spend on ids no more than the raw client does.
   */
  static String wireId(long n) {
    return new java.util.UUID(WIRE_ID_HIGH, n).toString();
  }

  private final Resources resources = new Resources();
  private final List<Pair> pairs = new ArrayList<>();
  private Pair policyPair;
  private final String run;

  /** Each broker binding's transport factory, by the name its operations carry. */
  private final Map<String, TransportFactory> brokers = new java.util.LinkedHashMap<>();

  private final List<String> handOffQueues = new ArrayList<>();

  private final URI amqpUri;
  private final String rabbitUri;
  private final String stompHost;
  private final int stompPort;

  RequestReply(
      String run, EmbeddedBroker artemis, String rabbitUri, String stompHost, int stompPort)
      throws Exception {
    this.run = run;
    this.amqpUri = artemis.amqpUri();
    this.rabbitUri = rabbitUri;
    this.stompHost = stompHost;
    this.stompPort = stompPort;
    URI stomp = URI.create("stomp://guest:guest@" + stompHost + ":" + stompPort + "/");
    brokers.put("amqp", () -> AmqpTransport.builder(artemis.amqpUri()).build());
    brokers.put("rabbit", () -> RabbitTransport.builder(URI.create(rabbitUri)).build());
    brokers.put("stomp", () -> StompTransport.builder(stomp).build());
    sync();
    pairs.add(
        new Pair(
            LABELS.get("amqp"),
            "Qpid JMS 2.10 request/reply",
            rawJms(artemis.amqpUri(), "lab.raw.jms." + run),
            parleyMessaging(echo("amqp"), brokers.get("amqp"), brokers.get("amqp"))));
    pairs.add(
        new Pair(
            LABELS.get("rabbit"),
            "amqp-client 5.37 request/reply",
            rawRabbit(rabbitUri, "lab.raw.rabbit." + run),
            parleyMessaging(echo("rabbit"), brokers.get("rabbit"), brokers.get("rabbit"))));
    pairs.add(
        new Pair(
            "RabbitMQ request/reply, Spring AMQP as the peer",
            "Spring AMQP 3.2.12 AsyncRabbitTemplate + SimpleMessageListenerContainer",
            SpringPeer.requestReply(rabbitUri, "lab.spring.rabbit." + run, resources),
            parleyMessaging(echo("rabbit-spring"), brokers.get("rabbit"), brokers.get("rabbit"))));
    pairs.add(
        new Pair(
            LABELS.get("stomp"),
            "raw STOMP 1.2 socket request/reply",
            RawStomp.requestReply(stompHost, stompPort, "lab.raw.stomp." + run, resources),
            parleyMessaging(echo("stomp"), brokers.get("stomp"), brokers.get("stomp"))));
  }

  List<Pair> pairs() {
    return pairs;
  }

  /** REST calls through deadline + rate limit + circuit breaker vs the same calls without. */
  Pair policyPair() {
    return policyPair;
  }

  /** The echo operation of one broker binding: each has its own command channel. */
  private Operation<Hello, Hello> echo(String broker) {
    return Operation.of("lab." + broker + "." + run, "Echo", Hello.class, Hello.class)
        .withIdempotent(true);
  }

  /**
   * Diagnostic, no goal: per broker, its raw request/reply client beside itself sending what the
   * broker gets from Parley for a request and its reply (the {@code parleyWire} variants of {@link
   * #rawJms(URI, String, boolean)}, {@link #rawRabbit(String, String, boolean)} and {@link
   * RawStomp#requestReply(String, int, String, Resources, boolean)}) — the rate Parley's wire
   * contract leaves request/reply on that broker, with nothing of Parley's client in it. Named as
   * the request/reply rows of {@link #pairs()}; made when called.
   */
  List<Pair> wireCostPairs() throws Exception {
    return List.of(
        new Pair(
            LABELS.get("amqp"),
            "raw Qpid JMS",
            rawJms(amqpUri, "lab.wire.jms.plain." + run, false),
            rawJms(amqpUri, "lab.wire.jms.parley." + run, true)),
        new Pair(
            LABELS.get("rabbit"),
            "raw amqp-client",
            rawRabbit(rabbitUri, "lab.wire.rabbit.plain." + run, false),
            rawRabbit(rabbitUri, "lab.wire.rabbit.parley." + run, true)),
        new Pair(
            LABELS.get("stomp"),
            "the raw STOMP client",
            RawStomp.requestReply(
                stompHost, stompPort, "lab.wire.stomp.plain." + run, resources, false),
            RawStomp.requestReply(
                stompHost, stompPort, "lab.wire.stomp.parley." + run, resources, true)));
  }

  /** The queues this run made on the shared RabbitMQ. */
  List<String> rabbitQueues() {
    List<String> queues = new ArrayList<>();
    for (String wire : List.of("rabbit", "stomp")) {
      queues.add("lab.wire." + wire + ".plain." + run);
      queues.add("lab.wire." + wire + ".parley." + run); // its reply queue goes with its client
    }
    queues.add("lab.wire.stomp.plain." + run + ".replies");
    for (String broker : List.of("rabbit", "rabbit-spring", "stomp")) {
      String name = echo(broker).commandChannel().name();
      queues.add(name);
      queues.add(name + ".dlq");
    }
    queues.add("lab.raw.rabbit." + run);
    queues.add("lab.spring.rabbit." + run);
    queues.add("lab.raw.stomp." + run);
    queues.add("lab.raw.stomp." + run + ".replies");
    return queues;
  }

  // ---- REST and gRPC ----------------------------------------------------------------------------

  private void sync() {
    Codecs codecs = Codecs.of(ProtobufCodec.of(), JsonCodec.of());
    RpcServer server =
        RpcServer.builder()
            .codecs(codecs)
            .serve(RpcBench.ECHO_GRPC, (request, ctx) -> RpcBench.echo(request))
            .serve(RpcBench.ECHO_REST, (request, ctx) -> request)
            .grpcService(new RpcBench.RawEcho())
            .docs(false)
            .build()
            .start();
    resources.add(server);
    Server bare = RpcBench.bareServer();
    resources.add(() -> bare.stop().join());
    RpcClient grpc = RpcBench.client(Binding.GRPC, server, codecs, Policy.none());
    RpcClient rest = RpcBench.client(Binding.REST, server, codecs, Policy.none());
    RpcClient guarded =
        RpcBench.client(Binding.REST, server, codecs, PolicyBench.deadlineRateLimitBreaker("lab"));
    resources.add(grpc);
    resources.add(rest);
    resources.add(guarded);
    policyPair =
        new Pair(
            "REST with deadline + rate limit + circuit breaker",
            "the same REST calls without a policy",
            () -> rest.callAsync(RpcBench.ECHO_REST, RpcBench.REST_REQUEST),
            () -> guarded.callAsync(RpcBench.ECHO_REST, RpcBench.REST_REQUEST));
    EchoGrpc.EchoFutureStub stub =
        GrpcClients.newClient("http://127.0.0.1:" + server.port(), EchoGrpc.EchoFutureStub.class);
    WebClient web = WebClient.of("http://127.0.0.1:" + bare.activeLocalPort());
    pairs.add(
        new Pair(
            "REST/JSON",
            "bare Armeria + Jackson",
            () -> RpcBench.bareCall(web),
            () -> rest.callAsync(RpcBench.ECHO_REST, RpcBench.REST_REQUEST)));
    pairs.add(
        new Pair(
            "gRPC/Protobuf",
            "grpc-java stub",
            () -> RpcBench.toCompletable(stub.echo(RpcBench.GRPC_REQUEST)),
            () -> grpc.callAsync(RpcBench.ECHO_GRPC, RpcBench.GRPC_REQUEST)));
  }

  // ---- Parley over a broker ---------------------------------------------------------------------

  interface TransportFactory {
    Transport create() throws Exception;
  }

  /** A responder's and a caller's Messaging, each on a transport of its own. */
  private record Ends(Messaging server, Messaging client) {}

  /**
   * Both ends with Parley's defaults (8 lanes, prefetch 64: the raw responders' prefetch), closed
   * in reverse order with the section: each Messaging before the transport it was given.
   */
  private Ends ends(TransportFactory serverSide, TransportFactory clientSide) throws Exception {
    Transport st = serverSide.create();
    Transport ct = clientSide.create();
    Messaging server = messaging("lab-server", st);
    Messaging client = messaging("lab-client", ct);
    resources.add(st);
    resources.add(ct);
    resources.add(server);
    resources.add(client);
    return new Ends(server, client);
  }

  private Call parleyMessaging(
      Operation<Hello, Hello> echo, TransportFactory serverSide, TransportFactory clientSide)
      throws Exception {
    Ends ends = ends(serverSide, clientSide);
    Messaging server = ends.server();
    Messaging client = ends.client();
    server.serve(echo, (request, ctx) -> request);
    client.call(echo, REQUEST, TIMEOUT).get(); // the reply queue and the command queue exist
    return () -> client.call(echo, REQUEST, TIMEOUT);
  }

  /**
   * Per broker, the responder's hand-off alone: Parley beside Parley, the same caller, the "raw"
   * side a responder with a blocking handler ({@code serve}: the transport's thread hands each
   * request to the subscription's handler pool) and the other with an asynchronous one ({@code
   * serveAsync}: run on the transport's thread). Made when called; {@link #handOffQueues} then
   * names the queues they made on the shared RabbitMQ.
   */
  List<Pair> handOffPairs() throws Exception {
    List<Pair> result = new ArrayList<>();
    for (Map.Entry<String, TransportFactory> broker : brokers.entrySet()) {
      String name = broker.getKey();
      Operation<Hello, Hello> blocking = echo("hop-blocking-" + name);
      Operation<Hello, Hello> async = echo("hop-async-" + name);
      if (!name.equals("amqp")) {
        for (Operation<Hello, Hello> op : List.of(blocking, async)) {
          handOffQueues.add(op.commandChannel().name());
          handOffQueues.add(op.commandChannel().name() + ".dlq");
        }
      }
      Ends ends = ends(broker.getValue(), broker.getValue());
      Messaging server = ends.server();
      Messaging client = ends.client();
      server.serve(blocking, (request, ctx) -> request);
      server.serveAsync(async, (request, ctx) -> CompletableFuture.completedFuture(request));
      client.call(blocking, REQUEST, TIMEOUT).get();
      client.call(async, REQUEST, TIMEOUT).get();
      result.add(
          new Pair(
              LABELS.get(name),
              "serve (blocking handler) vs serveAsync",
              () -> client.call(blocking, REQUEST, TIMEOUT),
              () -> client.call(async, REQUEST, TIMEOUT)));
    }
    return result;
  }

  List<String> handOffQueues() {
    return List.copyOf(handOffQueues);
  }

  /** The brokers' names in the lab's tables. */
  private static final Map<String, String> LABELS =
      Map.of(
          "amqp", "AMQP 1.0 request/reply (embedded Artemis)",
          "rabbit", "RabbitMQ request/reply",
          "stomp", "STOMP request/reply (RabbitMQ)");

  private static Messaging messaging(String service, Transport transport) {
    return Messaging.builder()
        .service(service)
        .transport(transport)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  // ---- raw Qpid JMS -----------------------------------------------------------------------------

  /**
   * Qpid JMS as a person would write request/reply: the responder a listener that answers to
   * JMSReplyTo with the request's id as correlation id; the requester sends persistent requests
   * asynchronously (a completion listener, as Parley's transport does) and matches replies arriving
   * on its temporary queue.
   */
  private Call rawJms(URI amqp, String queue) throws JMSException {
    return rawJms(amqp, queue, false);
  }

  /**
   * {@link #rawJms(URI, String)}; with {@code parleyWire} Artemis gets what it gets from Parley
   * (docs/wire.md §1): requests with the seven application properties of a Parley request ({@code
   * parley-id}, {@code parley-type}, {@code content-type}, {@code parley-source}, {@code
   * parley-reply-to}, {@code parley-reply-token}, {@code parley-deadline}), the content type also
   * native and the deadline as the time to live; replies with four ({@code parley-id}, {@code
   * parley-correlation-id}, {@code parley-reply-token}, {@code content-type}), to a {@code
   * parley.reply.…} queue rather than a temporary one. The client, codec and threads stay the raw
   * client's.
   */
  private Call rawJms(URI amqp, String queue, boolean parleyWire) throws JMSException {
    String options = parleyWire ? "?jms.validatePropertyNames=false" : "";
    jakarta.jms.Connection serverConnection = resources.jms(amqp, options);
    jakarta.jms.Connection clientConnection = resources.jms(amqp, options);
    AtomicLong replyIds = new AtomicLong();
    Session serverSession = serverConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    MessageProducer replier = serverSession.createProducer(null);
    replier.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
    MessageConsumer requests = serverSession.createConsumer(serverSession.createQueue(queue));
    requests.setMessageListener(
        m -> {
          try {
            byte[] body = ((BytesMessage) m).getBody(byte[].class);
            Hello hello = MAPPER.readValue(body, Hello.class);
            BytesMessage reply = serverSession.createBytesMessage();
            reply.writeBytes(MAPPER.writeValueAsBytes(hello));
            if (parleyWire) {
              String requestId = m.getStringProperty("parley-id");
              reply.setStringProperty("parley-id", wireId(replyIds.incrementAndGet()));
              reply.setStringProperty("parley-correlation-id", requestId);
              reply.setStringProperty(
                  "parley-reply-token", m.getStringProperty("parley-reply-token"));
              reply.setStringProperty("content-type", "application/json");
              nativeContentType(reply);
              reply.setJMSCorrelationID(requestId);
              replier.send(
                  serverSession.createQueue(m.getStringProperty("parley-reply-to")), reply);
            } else {
              reply.setJMSCorrelationID(m.getJMSCorrelationID());
              replier.send(m.getJMSReplyTo(), reply);
            }
          } catch (JMSException | IOException e) {
            throw new IllegalStateException(e);
          }
        });
    serverConnection.start();

    Session replySession = clientConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    String replyName = "parley.reply.lab-wire." + queue;
    jakarta.jms.Queue replyTo =
        parleyWire ? replySession.createQueue(replyName) : replySession.createTemporaryQueue();
    Map<String, CompletableFuture<Hello>> pending = new ConcurrentHashMap<>();
    replySession
        .createConsumer(replyTo)
        .setMessageListener(
            m -> {
              try {
                CompletableFuture<Hello> f = pending.remove(m.getJMSCorrelationID());
                if (f != null) {
                  f.complete(
                      MAPPER.readValue(((BytesMessage) m).getBody(byte[].class), Hello.class));
                }
              } catch (JMSException | IOException e) {
                throw new IllegalStateException(e);
              }
            });
    clientConnection.start();
    Session sendSession = clientConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
    MessageProducer producer = sendSession.createProducer(sendSession.createQueue(queue));
    producer.setDeliveryMode(DeliveryMode.PERSISTENT);
    AtomicLong ids = new AtomicLong();
    jakarta.jms.CompletionListener sent =
        new jakarta.jms.CompletionListener() {
          @Override
          public void onCompletion(jakarta.jms.Message message) {}

          @Override
          public void onException(jakarta.jms.Message message, Exception e) {
            try {
              String id =
                  parleyWire
                      ? message.getStringProperty("parley-id")
                      : message.getJMSCorrelationID();
              CompletableFuture<Hello> f = pending.remove(id);
              if (f != null) {
                f.completeExceptionally(e);
              }
            } catch (JMSException ignored) {
              // the call then fails on its timeout
            }
          }
        };
    return () -> {
      long n = ids.incrementAndGet();
      String id = parleyWire ? wireId(n) : Long.toString(n);
      CompletableFuture<Hello> reply = new CompletableFuture<>();
      pending.put(id, reply);
      try {
        BytesMessage m = sendSession.createBytesMessage();
        m.writeBytes(MAPPER.writeValueAsBytes(REQUEST));
        if (parleyWire) {
          m.setStringProperty("parley-id", id);
          m.setStringProperty("parley-type", Hello.class.getName());
          m.setStringProperty("content-type", "application/json");
          m.setStringProperty("parley-source", "lab-client");
          m.setStringProperty("parley-reply-to", replyName);
          m.setStringProperty("parley-reply-token", WIRE_TOKEN);
          m.setStringProperty(
              "parley-deadline", Long.toString(System.currentTimeMillis() + TIMEOUT.toMillis()));
          nativeContentType(m);
          m.setJMSReplyTo(replyTo);
          producer.send(
              m,
              DeliveryMode.PERSISTENT,
              jakarta.jms.Message.DEFAULT_PRIORITY,
              TIMEOUT.toMillis(),
              sent);
        } else {
          m.setJMSCorrelationID(id);
          m.setJMSReplyTo(replyTo);
          producer.send(m, sent);
        }
      } catch (JMSException | IOException e) {
        pending.remove(id);
        reply.completeExceptionally(e);
      }
      return reply;
    };
  }

  /** The message's native AMQP content type, as Parley's transport sets it besides the property. */
  static void nativeContentType(jakarta.jms.Message m) {
    if (m instanceof org.apache.qpid.jms.message.JmsMessage j
        && j.getFacade()
            instanceof org.apache.qpid.jms.provider.amqp.message.AmqpJmsMessageFacade f) {
      f.setContentType(org.apache.qpid.proton.amqp.Symbol.valueOf("application/json"));
    }
  }

  // ---- raw amqp-client --------------------------------------------------------------------------

  /**
   * amqp-client as its tutorial writes request/reply, made as durable as Parley's: persistent
   * requests into a quorum queue, the responder acking after it published the reply, replies on an
   * exclusive server-named queue matched by correlation id.
   */
  private Call rawRabbit(String uri, String queue) throws Exception {
    return rawRabbit(uri, queue, false);
  }

  /**
   * {@link #rawRabbit(String, String)}; with {@code parleyWire} the broker gets what it gets from
   * Parley (docs/wire.md §7): the command queue with Parley's arguments (delivery limit,
   * at-least-once dead-lettering, reject-publish), requests with a message id, type and app id and
   * a headers table of the reply token and the deadline, transient replies with their own message
   * id, the request's id as correlation id and the token in a table, on a {@code parley.reply.…}
   * queue consumed without acknowledgements. The client, codec and threads stay the raw client's.
   */
  private Call rawRabbit(String uri, String queue, boolean parleyWire) throws Exception {
    com.rabbitmq.client.Connection serverConnection = resources.rabbit(uri, "lab-raw-server");
    com.rabbitmq.client.Connection clientConnection = resources.rabbit(uri, "lab-raw-client");
    com.rabbitmq.client.Channel server = serverConnection.createChannel();
    server.queueDeclare(
        queue,
        true,
        false,
        false,
        parleyWire
            ? Map.of(
                "x-queue-type", "quorum",
                "x-dead-letter-exchange", "",
                "x-dead-letter-routing-key", queue + ".dlq",
                "x-delivery-limit", 20,
                "x-dead-letter-strategy", "at-least-once",
                "x-overflow", "reject-publish")
            : Map.of("x-queue-type", "quorum"));
    server.basicQos(PREFETCH);
    AtomicLong replyIds = new AtomicLong();
    server.basicConsume(
        queue,
        false,
        (tag, delivery) -> {
          Hello hello = MAPPER.readValue(delivery.getBody(), Hello.class);
          AMQP.BasicProperties request = delivery.getProperties();
          AMQP.BasicProperties props =
              parleyWire
                  ? new AMQP.BasicProperties.Builder()
                      .deliveryMode(1)
                      .messageId(wireId(replyIds.incrementAndGet()))
                      .correlationId(request.getMessageId())
                      .contentType("application/json")
                      .headers(
                          Map.of(
                              "parley-reply-token",
                              request.getHeaders().get("parley-reply-token").toString()))
                      .build()
                  : new AMQP.BasicProperties.Builder()
                      .correlationId(request.getCorrelationId())
                      .contentType("application/json")
                      .build();
          server.basicPublish(
              "", delivery.getProperties().getReplyTo(), props, MAPPER.writeValueAsBytes(hello));
          server.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
        },
        tag -> {});
    com.rabbitmq.client.Channel client = clientConnection.createChannel();
    String replyTo =
        parleyWire
            ? client
                .queueDeclare("parley.reply.lab-wire." + queue, false, true, true, Map.of())
                .getQueue()
            : client.queueDeclare().getQueue();
    Map<String, CompletableFuture<Hello>> pending = new ConcurrentHashMap<>();
    client.basicConsume(
        replyTo,
        true,
        (tag, delivery) -> {
          CompletableFuture<Hello> f = pending.remove(delivery.getProperties().getCorrelationId());
          if (f != null) {
            f.complete(MAPPER.readValue(delivery.getBody(), Hello.class));
          }
        },
        tag -> {});
    AtomicLong ids = new AtomicLong();
    return () -> {
      long n = ids.incrementAndGet();
      String id = parleyWire ? wireId(n) : Long.toString(n);
      CompletableFuture<Hello> reply = new CompletableFuture<>();
      pending.put(id, reply);
      try {
        AMQP.BasicProperties props =
            parleyWire
                ? new AMQP.BasicProperties.Builder()
                    .messageId(id)
                    .type(Hello.class.getName())
                    .appId("lab-client")
                    .replyTo(replyTo)
                    .deliveryMode(2)
                    .contentType("application/json")
                    .headers(
                        Map.of(
                            "parley-reply-token",
                            WIRE_TOKEN,
                            "parley-deadline",
                            Long.toString(System.currentTimeMillis() + TIMEOUT.toMillis())))
                    .build()
                : new AMQP.BasicProperties.Builder()
                    .correlationId(id)
                    .replyTo(replyTo)
                    .deliveryMode(2)
                    .contentType("application/json")
                    .build();
        client.basicPublish("", queue, props, MAPPER.writeValueAsBytes(REQUEST));
      } catch (IOException e) {
        pending.remove(id);
        reply.completeExceptionally(new UncheckedIOException(e));
      }
      return reply;
    };
  }

  @Override
  public void close() {
    resources.close();
  }
}
