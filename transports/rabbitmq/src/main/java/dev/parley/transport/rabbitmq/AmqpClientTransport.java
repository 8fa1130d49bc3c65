package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.TopologyRecoveryException;
import com.rabbitmq.client.impl.ForgivingExceptionHandler;
import com.rabbitmq.client.impl.recovery.RecordedConsumer;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Partitions;
import dev.parley.transport.spi.Redaction;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link RabbitTransport} on {@code com.rabbitmq:amqp-client}. */
final class AmqpClientTransport implements RabbitTransport {

  private static final Logger log = LoggerFactory.getLogger(AmqpClientTransport.class);
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /** How long cutting a connection waits for the broker's close-ok before closing the socket. */
  private static final Duration ABORT_WAIT = Duration.ofMillis(500);

  private final RabbitTransport.Builder config;
  private final Topology topology;
  private final String instance;
  private final ExecutorService clientThreads;
  private final Connection publishing;
  private final Connection consuming;

  /** Why RabbitMQ blocks publishing on the consuming connection (replies go there); null: not. */
  private volatile String consumingBlocked;

  private final Publisher publisher;
  private final Declarer producerSide;
  private final Declarer consumerSide;
  private final ScheduledExecutorService timer;
  private final ExecutorService confirms;

  /** Runs the topology check, whose declarations wait for the broker, off the timer. */
  private final ExecutorService topologyCheck;

  /** Whether a topology check runs now (one at a time). */
  private final AtomicBoolean checkingTopology = new AtomicBoolean();

  /** Consumer watches that found the consuming connection up, counted on the timer. */
  private long watches;

  private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();

  /** Running consumers by consumer tag (those a connection recovery restores or fails to). */
  private final Map<String, Resumable> consumersByTag = new ConcurrentHashMap<>();

  /** Consumers the timer is about to start again ({@link #resumeLater}). */
  private final Set<Resumable> resuming = ConcurrentHashMap.newKeySet();

  /** Consumers the last watch found without an open channel (the timer's thread only). */
  private final Set<Resumable> suspects = new HashSet<>();

  /** Whether the consuming connection is being recovered (its channels not all back yet). */
  private volatile boolean consumingRecovers;

  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  AmqpClientTransport(RabbitTransport.Builder config) {
    this.config = config;
    this.topology = new Topology(config.queueType, config.deliveryLimit, config.partitions);
    this.instance = "parley-rabbitmq-" + INSTANCES.incrementAndGet();
    this.clientThreads = Executors.newCachedThreadPool(named(instance + "-client"));
    this.timer = Executors.newSingleThreadScheduledExecutor(named(instance + "-timer"));
    this.confirms = Executors.newSingleThreadExecutor(named(instance + "-confirms"));
    this.topologyCheck = Executors.newSingleThreadExecutor(named(instance + "-topology"));
    // One message amqp-client refuses must not close a connection (HeaderTableGuard).
    ConnectionFactory factory = HeaderTableGuard.connectionFactory(config.maxInboundMessageSize);
    boolean tls = "amqps".equals(config.brokerUri.getScheme());
    if (config.sslContext != null && !tls) {
      shutdownThreads();
      throw new IllegalArgumentException(
          "sslContext: given for "
              + Redaction.uri(config.brokerUri)
              + " (expected: an amqps:// or rabbitmqs:// URI)");
    }
    if (config.sslContext != null) {
      factory.useSslProtocol(config.sslContext); // setUri keeps a context it was given
    }
    try {
      factory.setUri(config.brokerUri);
    } catch (Exception e) {
      shutdownThreads();
      // Neither the URI nor amqp-client's words about it (nor its exception, which may quote
      // the URI) carry the password out (S7).
      throw new IllegalArgumentException(
          "brokerUri: "
              + Redaction.uri(config.brokerUri)
              + " ("
              + Redaction.text(e.getMessage(), config.brokerUri)
              + ")");
    }
    if (tls) {
      // The certificate must name the host. amqp-client 5.x turns this on with the context it is
      // given; said here so that it never depends on how the context came.
      factory.enableHostnameVerification();
    }
    if ("/".equals(config.brokerUri.getRawPath())) {
      // amqp-client reads a bare trailing slash as the empty vhost name; users mean the default.
      factory.setVirtualHost("/");
    }
    factory.setAutomaticRecoveryEnabled(true);
    factory.setTopologyRecoveryEnabled(true);
    factory.setNetworkRecoveryInterval(config.recoveryInterval.toMillis());
    factory.setRequestedHeartbeat((int) Math.max(1, config.heartbeat.toSeconds()));
    factory.setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, config.sendTimeout.toMillis()));
    factory.setChannelRpcTimeout((int) Math.min(Integer.MAX_VALUE, config.rpcTimeout.toMillis()));
    // An answer that comes after its operation timed out must not be taken for the next one's.
    factory.setChannelShouldCheckRpcResponseType(true);
    factory.setExceptionHandler(new RecoveryFailures());
    factory.setSharedExecutor(clientThreads);
    factory.setShutdownExecutor(clientThreads);
    Connection pub = null;
    Connection sub = null;
    try {
      pub = connect(factory, config.connectionName + "-publish");
      sub = connect(factory, config.connectionName + "-consume");
    } catch (RuntimeException e) {
      closeQuietly(pub);
      shutdownThreads();
      throw e;
    }
    this.publishing = pub;
    this.consuming = sub;
    this.producerSide = new Declarer(publishing);
    this.publisher =
        new Publisher(
            publishing,
            config.confirmWindow,
            config.sendTimeout,
            confirms,
            exchange -> {
              log.warn(
                  "{}: RabbitMQ has no exchange {} (deleted?); the next send declares it again",
                  instance,
                  exchange);
              producerSide.forgetExchange(exchange);
            });
    this.consumerSide = new Declarer(consuming);
    consuming.addBlockedListener(
        reason -> consumingBlocked = reason, () -> consumingBlocked = null);
    watchRecovery(publishing, producerSide);
    watchRecovery(consuming, consumerSide);
    long watch = Math.max(1_000, 4 * config.recoveryInterval.toMillis());
    timer.scheduleWithFixedDelay(this::watchConsumers, watch, watch, TimeUnit.MILLISECONDS);
  }

  private Connection connect(ConnectionFactory factory, String name) {
    String where =
        config.addresses.isEmpty()
            ? config.brokerUri.getHost() + ":" + config.brokerUri.getPort()
            : config.addresses.stream()
                .map(Object::toString)
                .collect(java.util.stream.Collectors.joining(", "));
    IOException last = null;
    for (int attempt = 1; attempt <= config.startupConnectAttempts; attempt++) {
      try {
        // With addresses, amqp-client shuffles them for each connection and each recovery.
        return config.addresses.isEmpty()
            ? factory.newConnection(name)
            : factory.newConnection(config.addresses, name);
      } catch (javax.net.ssl.SSLException e) {
        if (dev.parley.transport.spi.TlsFailures.certificateRefusal(e) != null) {
          // an untrusted certificate, or one for another host: trying again only repeats it
          throw new TransportException(
              "parley.rabbitmq.tls_failed",
              "TLS with RabbitMQ at " + where + " failed: " + e.getMessage(),
              e);
        }
        last = e; // a handshake cut short (a broker starting or stopping): try again
      } catch (com.rabbitmq.client.AuthenticationFailureException e) {
        // a refused login is not transient: trying again only repeats it (and RabbitMQ logs each)
        throw new TransportException(
            "parley.rabbitmq.authentication_failed",
            "RabbitMQ at " + where + " refused the login of user '" + factory.getUsername() + "'",
            e);
      } catch (IOException e) {
        last = e;
      } catch (java.util.concurrent.TimeoutException e) {
        last = new IOException(e);
      }
      try {
        Thread.sleep(config.recoveryInterval.toMillis()); // start-up retry backoff
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new TransportException(
        "parley.transport.unavailable",
        "cannot connect to RabbitMQ at "
            + where
            + " after "
            + config.startupConnectAttempts
            + " attempt(s): "
            + (last == null ? "interrupted" : last.getMessage()),
        last);
  }

  /**
   * amqp-client's own handling (it logs), and a consumer its connection's recovery could not
   * restore consumes again: amqp-client logs the failure and goes on without it, and its queue (a
   * partition its member still owns) would go unconsumed for good. Seen after a broker restart: the
   * recovery's {@code basic.consume} on a quorum queue not yet back went unanswered for longer than
   * the RPC timeout.
   */
  private final class RecoveryFailures extends ForgivingExceptionHandler {
    @Override
    public void handleTopologyRecoveryException(
        Connection conn, com.rabbitmq.client.Channel ch, TopologyRecoveryException e) {
      super.handleTopologyRecoveryException(conn, ch, e);
      if (e.getRecordedEntity() instanceof RecordedConsumer recorded) {
        Resumable c = consumersByTag.get(recorded.getConsumerTag());
        if (c != null) {
          log.warn(
              "{}: the recovery did not restore the consumer of {}; consuming again",
              instance,
              c.describe());
          resumeLater(c);
        }
      }
    }
  }

  /** Consumes again on the timer (never on the recovery's thread), until it works or stops. */
  private void resumeLater(Resumable c) {
    if (closed.get()) {
      return;
    }
    resuming.add(c);
    try {
      timer.schedule(
          () -> {
            if (closed.get() || c.resume()) {
              resuming.remove(c);
            } else {
              resumeLater(c);
            }
          },
          config.recoveryInterval.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      resuming.remove(c); // closed meanwhile
    }
  }

  /**
   * The consumer watch (on the timer, every four recovery intervals, at least every second): a
   * running consumer whose channel is closed, or that RabbitMQ cancelled (its queue deleted), while
   * its connection is up and not recovering — found so on two watches in a row — consumes again on
   * a new channel. amqp-client recovers channels only with their connection: a channel RabbitMQ
   * closed with a channel error (an acknowledgement past its {@code consumer_timeout}, an unknown
   * delivery tag) stays closed, and one a recovery left behind without saying so (seen in the M1
   * chaos run: a partition's consumer missing after a broker restart, no error logged) would leave
   * its queue unconsumed for good. Spring AMQP's listener containers restart such consumers the
   * same way.
   */
  private void watchConsumers() {
    try {
      if (closed.get() || consumingRecovers || !consuming.isOpen()) {
        suspects.clear();
        return;
      }
      Set<Resumable> closedNow = new HashSet<>();
      for (Resumable c : consumersByTag.values()) {
        if (!resuming.contains(c) && !c.isConsuming()) {
          closedNow.add(c);
        }
      }
      boolean restarting = false;
      for (Resumable c : closedNow) {
        if (suspects.contains(c)) {
          log.warn(
              "{}: the consumer of {} is not consuming (channel closed or consumer cancelled);"
                  + " consuming again",
              instance,
              c.describe());
          resumeLater(c);
          restarting = true;
        }
      }
      suspects.clear();
      suspects.addAll(closedNow);
      suspects.removeAll(resuming);
      // A consumer RabbitMQ cancelled has lost its queue: the check declares it again now (the
      // restart retries until it is there), as it does every so often for bindings lost unseen.
      if ((restarting || ++watches % TOPOLOGY_CHECK_WATCHES == 0)
          && checkingTopology.compareAndSet(false, true)) {
        topologyCheck.execute(this::checkTopology);
      }
    } catch (RejectedExecutionException e) {
      checkingTopology.set(false); // closed meanwhile
    } catch (RuntimeException e) {
      log.warn("{}: watching the consumers failed: {}", instance, e.toString());
    }
  }

  /** Every how many consumer watches the topology check runs: 32 recovery intervals by default. */
  private static final int TOPOLOGY_CHECK_WATCHES = 8;

  /** A refused declaration repeats with every check: bounded. */
  private static final LogLimiter TOPOLOGY_REFUSALS = LogLimiter.of(5, 300);

  /**
   * The topology check: declares again what every subscription consumes from, with its bindings
   * (idempotent on the broker). An exchange deleted under a running service takes its bindings with
   * it, and RabbitMQ tells no consumer: the group queues stay consumed but nothing reaches them any
   * more, even once a publisher has declared the exchange again (it does at its next send). A
   * deleted queue is declared again too — at once when the consumer watch restarts a consumer
   * (RabbitMQ cancels the consumer of a deleted queue): with its dead-letter queue and bindings, a
   * reply queue as the exclusive queue it was, as Spring AMQP's containers declare missing queues
   * through their {@code RabbitAdmin}; a refused declaration (someone declared the queue again with
   * other arguments) is logged, and the consumer consumes what is there. Spring AMQP declares only
   * when a connection opens or a container restarts; a binding lost while it stays open is lost
   * until then.
   */
  private void checkTopology() {
    try {
      if (closed.get() || consumingRecovers || !consuming.isOpen()) {
        return;
      }
      consumerSide.reset();
      for (Subscription s : subscriptions) {
        try {
          s.declare();
        } catch (RuntimeException e) {
          TOPOLOGY_REFUSALS.warn(
              log, "{}: the topology check could not declare: {}", instance, e.getMessage());
        }
      }
    } finally {
      checkingTopology.set(false);
    }
  }

  /** The channel of a running consumer of {@code queue}, for fault tests; null: none. */
  com.rabbitmq.client.Channel consumerChannel(String queue) {
    for (Resumable c : consumersByTag.values()) {
      if (c instanceof QueueConsumer q && q.describe().equals(queue)) {
        return q.channel();
      }
    }
    return null;
  }

  private void watchRecovery(Connection connection, Declarer declarer) {
    boolean consumers = connection == consuming;
    ((Recoverable) connection)
        .addRecoveryListener(
            new RecoveryListener() {
              @Override
              public void handleRecovery(Recoverable recoverable) {
                if (consumers) {
                  consumingRecovers = false;
                }
                reconnects.incrementAndGet();
                declarer.reset();
                log.info("{}: connection to RabbitMQ recovered", instance);
              }

              @Override
              public void handleRecoveryStarted(Recoverable recoverable) {
                if (consumers) {
                  consumingRecovers = true;
                }
                log.info("{}: connection to RabbitMQ lost; recovering", instance);
              }
            });
  }

  @Override
  public String name() {
    return "rabbitmq";
  }

  /** Direct reply-to and server-named ({@code amq.gen-…}) queues: no client can name one. */
  @Override
  public boolean isNativeReplyAddress(String queue) {
    return queue.startsWith(Topology.DIRECT_REPLY_TO) || queue.startsWith(Topology.SERVER_NAMED);
  }

  @Override
  public long reconnects() {
    return reconnects.get();
  }

  @Override
  public boolean isConnected() {
    return publishing.isOpen() && consuming.isOpen();
  }

  // ---- sending -------------------------------------------------------------------------------

  @Override
  public CompletableFuture<Void> send(
      Destination destination, Message message, SendOptions options) {
    if (closed.get()) {
      return dev.parley.transport.spi.Transport.closedFailure();
    }
    try {
      AMQP.BasicProperties props = RabbitMessages.toProperties(message, options.persistent());
      if (!options.delay().isZero()) {
        String delayQueue = declareDelay(destination, options.delay());
        return publisher.publish("", delayQueue, true, props, Payloads.shared(message));
      }
      if (destination instanceof Destination.Event e) {
        producerSide.exchange(e.channel(), Topology.FANOUT, null);
        // Events without a subscriber group are dropped, as in any publish/subscribe; the routing
        // key (the partition number) routes it in partitioned groups.
        return publisher.publish(
            e.channel(), routingKey(message), false, props, Payloads.shared(message));
      }
      String queue = Topology.queueName(destination);
      if (options.reply() || Topology.isReplyQueue(queue)) {
        // A reply goes to the queue the request named, as it is: never declared (the sender named
        // it; RELIABILITY.md S6), and a reply to a caller that is gone has nowhere to go, which is
        // not an error of the responder.
        return publisher.publish("", queue, false, props, Payloads.shared(message));
      }
      if (destination instanceof Destination.Queue) {
        if (!producerSide.queueExists(queue)) {
          declareWorkQueue(producerSide, queue, false);
        } else if (!Topology.isDeadLetterQueue(queue)) {
          // A queue someone else declared (a foreign responder) dead-letters to X.dlq: make sure
          // that exists, or RabbitMQ drops what it dead-letters there.
          producerSide.ensureDeadLetterQueue(
              queue, dlq -> topology.queueArguments(dlq, null, false));
        }
      }
      if (!options.confirmed()) {
        return publisher.publishUnconfirmed("", queue, props, Payloads.shared(message));
      }
      return publisher.publish("", queue, true, props, Payloads.shared(message));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** An event's partition number: from its partition key, or spread by its id without one. */
  private String routingKey(Message message) {
    String key = message.headers().get(Headers.PARTITION_KEY);
    return Integer.toString(Partitions.of(key != null ? key : message.id(), topology.partitions()));
  }

  private String declareDelay(Destination destination, Duration delay) {
    String exchange;
    String routingKey;
    if (destination instanceof Destination.Event e) {
      producerSide.exchange(e.channel(), Topology.FANOUT, null);
      exchange = e.channel();
      routingKey = "";
    } else {
      exchange = "";
      routingKey = Topology.queueName(destination);
    }
    String name = Topology.delayQueue(exchange.isEmpty() ? routingKey : exchange, delay);
    producerSide.queue(name, topology.delayArguments(delay, exchange, routingKey));
    return name;
  }

  private void declareWorkQueue(Declarer declarer, String queue, boolean singleActive) {
    String dlq = queue + Destination.DEAD_LETTER_SUFFIX;
    if (!Topology.isDeadLetterQueue(queue)) {
      declarer.queue(dlq, topology.queueArguments(dlq, null, false));
    }
    declarer.queue(queue, topology.queueArguments(queue, dlq, singleActive));
  }

  // ---- consuming -----------------------------------------------------------------------------

  @Override
  public TransportSubscription subscribe(
      Destination source, ConsumerSettings settings, DeliveryHandler handler) {
    ensureOpen();
    if (source instanceof Destination.Event) {
      throw new IllegalArgumentException(
          "source: " + source + " (expected: a group queue or a queue, not an event channel)");
    }
    String queue = Topology.queueName(source);
    Subscription subscription;
    if (!settings.temporary()
        && settings.partitioned()
        && source instanceof Destination.GroupQueue g) {
      declarePartitioned(g);
      subscription = partitioned(g, settings, handler);
    } else {
      declareConsumed(queue, source, settings);
      subscription = consumers(queue, source, settings, handler);
    }
    subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Declares the queue a subscription consumes (a reply queue as a temporary one), and binds a
   * group's queue to its channel.
   */
  private void declareConsumed(String queue, Destination source, ConsumerSettings settings) {
    if (settings.temporary()) {
      consumerSide.temporaryQueue(queue);
      return;
    }
    declareWorkQueue(consumerSide, queue, settings.partitioned());
    if (source instanceof Destination.GroupQueue g) {
      consumerSide.exchange(g.channel(), Topology.FANOUT, null);
      consumerSide.bindQueue(queue, g.channel(), "");
    }
  }

  private Subscription consumers(
      String queue, Destination source, ConsumerSettings settings, DeliveryHandler handler) {
    List<QueueConsumer> consumers = new ArrayList<>();
    try {
      for (int i = 0; i < settings.concurrency(); i++) {
        QueueConsumer c =
            new QueueConsumer(
                consuming,
                queue,
                source,
                settings.prefetch(),
                handler,
                "",
                false,
                settings.temporary(),
                () -> consumingBlocked == null,
                consumersByTag,
                timer);
        c.start();
        consumers.add(c);
      }
    } catch (RuntimeException e) {
      consumers.forEach(c -> c.stop(Duration.ZERO));
      throw e;
    }
    return new Subscription() {
      private final AtomicBoolean done = new AtomicBoolean();

      @Override
      void declare() {
        declareConsumed(queue, source, settings);
      }

      @Override
      void close(long deadline) {
        if (done.compareAndSet(false, true)) {
          // One bound for the whole subscription, not one per consumer.
          consumers.forEach(c -> c.stop(Durations.until(deadline)));
          subscriptions.remove(this);
        }
      }
    };
  }

  private Subscription partitioned(
      Destination.GroupQueue group, ConsumerSettings settings, DeliveryHandler handler) {
    PartitionedSubscription subscription =
        new PartitionedSubscription(
            consuming,
            group.queueName(),
            group,
            topology.partitions(),
            settings.concurrency(),
            settings.prefetch(),
            config.memberHeartbeat,
            config.closeTimeout,
            config.rpcTimeout,
            timer,
            handler,
            consumersByTag);
    subscription.start();
    return new Subscription() {
      @Override
      void declare() {
        declarePartitioned(group);
      }

      @Override
      void close(long deadline) {
        subscription.close(deadline);
        subscriptions.remove(this);
      }
    };
  }

  /**
   * Declares a partitioned group's topology: its channel's exchange, the group's partition exchange
   * bound to it, and the partition queues bound to that, with their dead-letter queue.
   */
  private void declarePartitioned(Destination.GroupQueue group) {
    String queue = group.queueName();
    String partitionExchange = Topology.partitionExchange(group);
    String dlq = queue + Destination.DEAD_LETTER_SUFFIX;
    consumerSide.exchange(group.channel(), Topology.FANOUT, null);
    // Publishers route each event to its partition's number (Partitions.of, from the key): a
    // direct exchange then picks the partition queue. (A consistent-hash exchange would spare the
    // publisher the count, but RabbitMQ 3.10 rebuilt its ring differently after a kill -9 and the
    // re-declarations that follow: keys moved partitions, and their order broke;
    // PartitionMappingAcrossRestartIT.)
    consumerSide.exchange(
        partitionExchange, Topology.DIRECT, Map.of("x-parley-partitions", topology.partitions()));
    consumerSide.bindExchange(partitionExchange, group.channel(), "");
    consumerSide.queue(dlq, topology.queueArguments(dlq, null, false));
    for (int p = 0; p < topology.partitions(); p++) {
      String partition = Topology.partitionQueue(queue, p);
      consumerSide.queue(partition, topology.queueArguments(partition, dlq, true));
      consumerSide.bindQueue(partition, partitionExchange, Integer.toString(p));
    }
  }

  /** A subscription whose close can share a bound with others (the transport's close). */
  private abstract class Subscription implements TransportSubscription {

    /** Declares again what it consumes from, with its bindings (the topology check). */
    abstract void declare();

    /**
     * Closes, waiting for handlers in progress until {@code deadline} ({@link System#nanoTime}).
     */
    abstract void close(long deadline);

    @Override
    public final void close() {
      close(System.nanoTime() + config.closeTimeout.toNanos());
    }
  }

  // ---- life ----------------------------------------------------------------------------------

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Handlers in progress get closeTimeout in all; the broker then gets rpcTimeout to take the
    // acknowledgements and goodbyes. An answer that never comes (a consumer's cancel sent as its
    // connection died, left waiting by amqp-client) would otherwise hold the close.
    long handlersDeadline = System.nanoTime() + config.closeTimeout.toNanos();
    CountDownLatch finished = new CountDownLatch(1);
    Thread guard = closeGuard(config.closeTimeout.plus(config.rpcTimeout), finished);
    try {
      for (Subscription s : List.copyOf(subscriptions)) {
        try {
          s.close(handlersDeadline);
        } catch (RuntimeException e) {
          log.warn("{}: closing a subscription failed: {}", instance, e.toString());
        }
      }
      // Publishes in flight get their confirms (in what is left of the close timeout): a message
      // RabbitMQ took must not be reported as failed, or its sender sends it again.
      publisher.awaitConfirms(Durations.until(handlersDeadline));
      publisher.failAll();
      closeQuietly(consuming);
      closeQuietly(publishing);
    } finally {
      finished.countDown();
      try {
        guard.join(ABORT_WAIT.toMillis() * 2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // Whatever failed above, no thread of this transport outlives it.
      shutdownThreads();
    }
  }

  /**
   * A thread that cuts both connections if the close has not {@code finished} within {@code bound}:
   * that fails every operation still waiting for the broker at once.
   */
  private Thread closeGuard(Duration bound, CountDownLatch finished) {
    Thread t =
        new Thread(
            () -> {
              try {
                if (!finished.await(bound.toNanos(), TimeUnit.NANOSECONDS)) {
                  log.warn(
                      "{}: the broker did not let the transport close within {}; cutting its"
                          + " connections (what was not acknowledged is delivered again)",
                      instance,
                      bound);
                  abortQuietly(consuming);
                  abortQuietly(publishing);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            instance + "-close-guard");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void abortQuietly(Connection connection) {
    try {
      connection.abort((int) ABORT_WAIT.toMillis());
    } catch (RuntimeException e) {
      log.debug("aborting a connection failed: {}", e.toString());
    }
  }

  private void shutdownThreads() {
    timer.shutdownNow();
    topologyCheck.shutdownNow();
    confirms.shutdown();
    clientThreads.shutdown();
    try {
      if (!clientThreads.awaitTermination(config.closeTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        clientThreads.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeQuietly(Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.close((int) Math.min(Integer.MAX_VALUE, config.closeTimeout.toMillis()));
    } catch (IOException | RuntimeException e) {
      log.debug("{}: closing a connection failed: {}", instance, e.toString());
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("transport " + instance + " is closed");
    }
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
