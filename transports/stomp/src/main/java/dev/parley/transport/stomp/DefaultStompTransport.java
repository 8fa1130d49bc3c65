package dev.parley.transport.stomp;

import dev.parley.error.BadInputException;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Message;
import dev.parley.transport.spi.BrokerAddresses;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link StompTransport}: one STOMP connection, made again when it is lost. */
final class DefaultStompTransport implements StompTransport {

  private static final Logger log = LoggerFactory.getLogger(DefaultStompTransport.class);
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final StompTransport.Builder config;
  private final String name;
  private final javax.net.ssl.SSLSocketFactory tlsSockets;

  /** The nodes, each with its port: the URI's host alone, or the builder's addresses. */
  private final List<BrokerAddresses.HostAndPort> nodes;

  /** Index in {@link #nodes} of the one that accepted last: each connection tries it first. */
  private volatile int current;

  /** The node the last connection attempt went to (for the start-up failures' messages). */
  private volatile BrokerAddresses.HostAndPort lastTried;

  private final String virtualHost;
  private final String login;
  private final String passcode;
  private final ScheduledExecutorService timer;
  private final Map<String, StompConsumer> bySubscription = new ConcurrentHashMap<>();

  /** Connections with a give-back drop scheduled ({@link #giveBackLater}). */
  private final Set<StompClient> givingBack = ConcurrentHashMap.newKeySet();

  private final Set<StompConsumer> consumers = ConcurrentHashMap.newKeySet();
  private final Set<TransportSubscription> subscriptions = ConcurrentHashMap.newKeySet();
  private final AtomicLong reconnects = new AtomicLong();

  /**
   * How long sends to a destination the broker refused (a permission it lacks, or a queue that
   * exists with other arguments) fail at once instead of being written, and a partition it refused
   * is not subscribed again: the broker answers each such frame by closing the connection, under
   * every subscription on it.
   */
  static final Duration REFUSAL_PAUSE = Duration.ofSeconds(30);

  /** Destinations (their {@code destination} header) refused a SEND, while their pause lasts. */
  private final Map<String, RefusedSend> refusedSends = new ConcurrentHashMap<>();

  private record RefusedSend(long until, TransportException failure) {}

  private final AtomicInteger nextSubscription = new AtomicInteger();
  private final AtomicInteger workers = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Object connecting = new Object();
  private final Object connectedSignal = new Object();
  private volatile StompClient client;

  /**
   * The connection that copies messages too large to read to their dead-letter queues, opened on
   * the first one ({@link #copyLargeMessage}); null while there is none.
   */
  private volatile StompClient copies;

  private final Object copiesOpening = new Object();

  /** When opening {@link #copies} last failed (nanoTime), 0 if it did not. */
  private volatile long copiesFailedAt;

  /**
   * The last connection this transport dropped to give back messages, and when ({@link
   * #reconnect}).
   */
  private volatile StompClient droppedToGiveBack;

  private volatile long droppedAt;
  private volatile Dialect dialect;

  DefaultStompTransport(StompTransport.Builder config) {
    this.config = config;
    this.name = "parley-stomp-" + INSTANCES.incrementAndGet();
    boolean tls = "stomps".equals(config.brokerUri.getScheme());
    this.nodes = BrokerAddresses.nodes(config.brokerUri, config.addresses, tls ? 61614 : 61613);
    this.lastTried = nodes.get(0);
    try {
      this.tlsSockets =
          !tls
              ? null
              : (config.sslContext != null
                      ? config.sslContext
                      : javax.net.ssl.SSLContext.getDefault())
                  .getSocketFactory();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
    String path = config.brokerUri.getRawPath();
    this.virtualHost =
        path == null || path.length() <= 1
            ? "/"
            : URLDecoder.decode(path.substring(1), StandardCharsets.UTF_8);
    String userInfo = config.brokerUri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      this.login =
          URLDecoder.decode(
              colon < 0 ? userInfo : userInfo.substring(0, colon), StandardCharsets.UTF_8);
      this.passcode =
          colon < 0 ? "" : URLDecoder.decode(userInfo.substring(colon + 1), StandardCharsets.UTF_8);
    } else {
      this.login = null;
      this.passcode = null;
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name + "-timer");
              t.setDaemon(true);
              return t;
            });
    IOException last = null;
    for (int attempt = 1; attempt <= config.startupConnectAttempts; attempt++) {
      try {
        client = open();
        dialect = Dialect.forServer(client.session().server(), config.partitions, config.queueType);
        log.info(
            "{}: connected to {} ({}) at {}",
            name,
            client.session().server(),
            dialect.name(),
            nodes.get(current));
        return;
      } catch (StompClient.ConnectRefused e) {
        timer.shutdownNow();
        throw new TransportException(
            "parley.stomp.connection_refused",
            "the STOMP broker at "
                + lastTried
                + " refused the connection: "
                + dev.parley.transport.spi.Redaction.text(e.getMessage()),
            e);
      } catch (IOException e) {
        if (e instanceof javax.net.ssl.SSLHandshakeException
            && dev.parley.transport.spi.TlsFailures.certificateRefusal(e) != null) {
          // an untrusted or mismatched certificate: trying again only repeats it (a handshake cut
          // short while a broker starts or stops is tried again, below)
          timer.shutdownNow();
          throw new TransportException(
              "parley.stomp.tls_failed",
              "TLS with the STOMP broker at " + lastTried + " failed: " + e.getMessage(),
              e);
        }
        last = e;
        if (attempt < config.startupConnectAttempts) {
          try {
            Thread.sleep(config.reconnectInterval.toMillis());
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
    }
    timer.shutdownNow();
    throw new TransportException(
        "parley.transport.connect",
        "cannot connect to the STOMP broker at "
            + nodes.stream()
                .map(Object::toString)
                .collect(java.util.stream.Collectors.joining(", "))
            + ": "
            + last,
        last);
  }

  private StompClient open() throws IOException {
    StompClient[] self = new StompClient[1];
    StompClient c =
        connect(
            name,
            this::copyLargeMessage,
            frame -> dispatch(frame, self[0]),
            cause -> onLost(self[0], cause));
    self[0] = c;
    return c;
  }

  /**
   * A connection to this transport's broker, with its settings: to the node that accepted last, or
   * else to the next one that accepts. A refused login or certificate ends the round at once (each
   * node of a cluster would refuse it alike); the last node's failure when none accepts.
   */
  private StompClient connect(
      String threadName,
      StompFrameReader.BodyCopier copier,
      java.util.function.Consumer<StompFrame> onFrame,
      java.util.function.Consumer<Throwable> onClosed)
      throws IOException {
    int first = current;
    IOException failure = null;
    for (int i = 0; i < nodes.size(); i++) {
      int index = (first + i) % nodes.size();
      BrokerAddresses.HostAndPort node = nodes.get(index);
      lastTried = node;
      try {
        StompClient c = connect(node, threadName, copier, onFrame, onClosed);
        current = index;
        return c;
      } catch (StompClient.ConnectRefused e) {
        throw e;
      } catch (javax.net.ssl.SSLHandshakeException e) {
        if (dev.parley.transport.spi.TlsFailures.certificateRefusal(e) != null) {
          throw e;
        }
        // a handshake cut short (a broker starting or stopping): as a node that did not answer
        failure = e;
      } catch (IOException e) {
        if (nodes.size() > 1) {
          log.debug(
              "{}: the STOMP broker at {} did not accept: {}", threadName, node, e.toString());
        }
        failure = e;
      }
    }
    throw failure;
  }

  private StompClient connect(
      BrokerAddresses.HostAndPort node,
      String threadName,
      StompFrameReader.BodyCopier copier,
      java.util.function.Consumer<StompFrame> onFrame,
      java.util.function.Consumer<Throwable> onClosed)
      throws IOException {
    return StompClient.connect(
        node.host(),
        node.port(),
        tlsSockets,
        virtualHost,
        login,
        passcode,
        config.heartbeat,
        config.connectTimeout,
        config.maxFrameBytes,
        copier,
        threadName,
        timer,
        onFrame,
        onClosed);
  }

  @Override
  public String name() {
    return "stomp";
  }

  @Override
  public long reconnects() {
    return reconnects.get();
  }

  @Override
  public boolean isConnected() {
    StompClient c = client;
    return c != null && c.isOpen();
  }

  @Override
  public String dialect() {
    return dialect.name();
  }

  /**
   * On RabbitMQ its own reply queues (direct reply-to, server-named {@code amq.gen-…} queues such
   * as a STOMP client's {@code /temp-queue/}), as on the AMQP 0-9-1 transport; none on Artemis.
   */
  @Override
  public boolean isNativeReplyAddress(String queue) {
    return dialect instanceof Dialect.RabbitMq && Dialect.RabbitMq.isNativeReplyQueue(queue);
  }

  int maxFrameBytes() {
    return config.maxFrameBytes;
  }

  Dialect dialect0() {
    return dialect;
  }

  /** The heart-beat interval offered both ways. */
  Duration heartbeat() {
    return config.heartbeat;
  }

  Duration memberHeartbeat() {
    return config.memberHeartbeat;
  }

  Duration closeTimeout() {
    return config.closeTimeout;
  }

  Duration sendTimeout() {
    return config.sendTimeout;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  // ---- connection ------------------------------------------------------------------------------

  private void dispatch(StompFrame frame, StompClient from) {
    if (frame.command().equals("ERROR")) {
      if (StompClient.SUBSCRIPTION_CANCELLED.equals(frame.header("message"))) {
        cancelledOn(frame, from);
      } else if (StompClient.PRECONDITION_FAILED.equals(frame.header("message"))) {
        refusedQueue(frame, REFUSED_QUEUE, StompClient.PRECONDITION_FAILED, true);
      } else if ("access_refused".equals(frame.header("message"))) {
        refusedQueue(frame, ACCESS_REFUSED_QUEUE, "access_refused", false);
      } else {
        strandedOn(frame, from);
      }
      return;
    }
    String id = frame.header("subscription");
    StompConsumer consumer = id == null ? null : bySubscription.get(id);
    if (consumer != null) {
      consumer.onMessage(frame, id, from);
    } else if (id != null
        && id.startsWith("s")
        && frame.header("ack") != null
        && dialect.nackRequeues()) {
      // A message for a subscription that has ended (RabbitMQ can send one after answering its
      // UNSUBSCRIBE): it can be neither acknowledged nor given back on this connection, and would
      // stay unacknowledged on it, holding its partition up, for as long as the connection lives.
      giveBackLater(from);
    }
  }

  /**
   * Called on a connection's reader thread for a MESSAGE whose body is over {@code maxFrameBytes}:
   * when its subscription dead-letters such messages whole ({@link StompConsumer#deadLetterCopy}),
   * a SEND of the message with the dead letter's headers to its dead-letter queue, the body copied
   * as the reader goes past it, on a connection of its own (a write of a body that comes at the
   * pace of another connection's reads must not hold the consuming connection's writes, nor wait
   * for that connection's reader). Null when the message is not copied: it is then skipped and left
   * to the consumer's older way (StompConsumer.leftAtTheBroker).
   */
  private java.util.concurrent.CompletableFuture<Void> copyLargeMessage(
      Map<String, String> headers, long length, StompFrameReader.Body body) {
    String id = headers.get("subscription");
    StompConsumer consumer = id == null ? null : bySubscription.get(id);
    Map<String, String> send = consumer == null ? null : consumer.deadLetterCopy(headers, length);
    if (send == null) {
      return null;
    }
    StompClient c = copyConnection();
    if (c == null) {
      return null;
    }
    return c.sendStreaming(send, length, body, config.sendTimeout);
  }

  /** {@link #copies}, opened if need be; null when it cannot be (tried again after a while). */
  private StompClient copyConnection() {
    StompClient c = copies;
    if (c != null && c.isOpen()) {
      return c;
    }
    synchronized (copiesOpening) {
      c = copies;
      if (c != null && c.isOpen()) {
        return c;
      }
      long failed = copiesFailedAt;
      if (closed.get()
          || (failed != 0 && System.nanoTime() - failed < config.reconnectInterval.toNanos())) {
        return null;
      }
      try {
        StompClient[] self = new StompClient[1];
        c =
            connect(
                name + "-copies",
                null,
                frame -> {}, // it subscribes to nothing
                cause -> {
                  if (copies == self[0]) {
                    copies = null;
                  }
                });
        self[0] = c;
        copies = c;
        copiesFailedAt = 0;
        if (closed.get()) {
          c.close();
          return null;
        }
        return c;
      } catch (IOException | RuntimeException e) {
        copiesFailedAt = System.nanoTime();
        log.warn("{}: cannot open a connection to copy a large message: {}", name, e.toString());
        return null;
      }
    }
  }

  /** The queue RabbitMQ names in a refused declaration ("… for queue 'orders' in vhost …"). */
  private static final Pattern REFUSED_QUEUE = Pattern.compile("for queue '([^']+)'");

  /**
   * The queue RabbitMQ names when it refuses a user the queue ("ACCESS_REFUSED - access to queue
   * 'billing.commands' in vhost …"): the plugin declares a {@code /queue/} destination's queue for
   * a SEND as for a SUBSCRIBE, which needs the configure permission.
   */
  private static final Pattern ACCESS_REFUSED_QUEUE = Pattern.compile("access to queue '([^']+)'");

  /**
   * RabbitMQ refused a queue, for a SUBSCRIBE or a SEND, and closes the connection: it will not
   * declare it as the plugin asks (it exists with other arguments: {@code precondition_failed},
   * sends to {@code /queue/} and, {@code alsoWithoutDeclaring}, to {@code /amq/queue/} are refused
   * alike), or this user may not (since 7 December 2026; {@code access_refused}: the declaration a
   * SEND to {@code /queue/} makes). A SEND there would be refused the same way, also one without a
   * receipt (a request), which nothing else would tell apart from a lost connection — each such
   * request cost a connection under every subscription: sends there fail at once for {@link
   * #REFUSAL_PAUSE}.
   */
  private void refusedQueue(
      StompFrame error, Pattern naming, String message, boolean alsoWithoutDeclaring) {
    String text = new String(error.body(), StandardCharsets.UTF_8).trim();
    Matcher queue = naming.matcher(text);
    if (!queue.find()) {
      return;
    }
    RefusedSend refusal =
        new RefusedSend(
            System.nanoTime() + REFUSAL_PAUSE.toNanos(), StompClient.brokerError(message, text));
    refusedSends.put("/queue/" + queue.group(1), refusal);
    if (alsoWithoutDeclaring) {
      refusedSends.put("/amq/queue/" + queue.group(1), refusal);
    }
  }

  /** The consumer tag RabbitMQ's STOMP plugin names in a "Subscription not found" error. */
  private static final Pattern STRANDED_TAG = Pattern.compile("T_([A-Za-z0-9._-]+)");

  /**
   * RabbitMQ's STOMP plugin answers "Subscription not found" when a delivery reaches a subscription
   * it has just ended ("There is no current subscription with tag 'T_s7.1'": the plugin's
   * UNSUBSCRIBE removes the subscription as soon as the cancel is answered, and deliveries already
   * on their way to it are dropped there) or when an ACK or NACK names an ended one. Either way the
   * message stays unacknowledged on this connection, holding its queue (a partition) up for as long
   * as the connection lives, and no frame of it ever reaches the client. A subscription whose
   * messages go back to a shared queue ({@code s…}) has them given back by a new connection.
   */
  private void strandedOn(StompFrame error, StompClient from) {
    String text = new String(error.body(), StandardCharsets.UTF_8);
    Matcher tag = STRANDED_TAG.matcher(text);
    if (tag.find() && tag.group(1).startsWith("s") && dialect.nackRequeues()) {
      log.debug("{}: a message was stranded on an ended subscription ({})", name, text.trim());
      giveBackLater(from);
    }
  }

  /**
   * RabbitMQ ended one of this connection's subscriptions itself (its queue deleted) and keeps the
   * connection: nothing would reach that subscription again. The connection is dropped (as to give
   * back a stranded message) and the reconnect subscribes again, which declares the queue again
   * where the subscription's destination does (wire.md §8); a destination the broker refuses then
   * is tried again with every reconnect.
   */
  private void cancelledOn(StompFrame error, StompClient from) {
    String id = error.header("subscription");
    StompConsumer consumer = id == null ? null : bySubscription.get(id);
    if (consumer != null && !consumer.isStopped()) {
      log.warn(
          "{}: the broker cancelled the subscription to {} (its queue deleted?); reconnecting to"
              + " subscribe again",
          name,
          consumer.source());
      dropLater(from, "reconnecting: the broker cancelled a subscription");
    }
  }

  /**
   * Drops {@code client}, from the timer (never the reader thread), so that RabbitMQ gives back a
   * message it delivered to a subscription after that subscription could still settle it.
   */
  void giveBackLater(StompClient client) {
    dropLater(
        client, "a message came for a subscription that had ended; reconnecting to give it back");
  }

  /** Drops {@code client} and reconnects, from the timer, saying {@code why}. */
  private void dropLater(StompClient client, String why) {
    if (!givingBack.add(client)) {
      return;
    }
    try {
      timer.execute(
          () -> {
            try {
              if (client == this.client && client.isOpen()) {
                log.info("{}: {}", name, why);
                dropToGiveBack(client, null);
              }
            } finally {
              givingBack.remove(client);
            }
          });
    } catch (RejectedExecutionException e) {
      givingBack.remove(client); // closing: the connection ends anyway
    }
  }

  private void onLost(StompClient lost, Throwable cause) {
    if (closed.get() || lost != client) {
      return;
    }
    log.info("{}: connection to the STOMP broker lost ({}); reconnecting", name, cause.toString());
    try {
      timer.schedule(this::reconnect, config.reconnectInterval.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed after the check above (the reader thread lost the race with close()): nothing to
      // reconnect, and nothing to throw on the reader thread
      log.debug("{}: closed while the lost connection was being reported", name);
    }
  }

  private void reconnect() {
    if (closed.get()) {
      return;
    }
    StompClient fresh;
    StompClient lost;
    synchronized (connecting) {
      lost = client;
      try {
        fresh = open();
      } catch (IOException | RuntimeException e) {
        log.debug("{}: reconnect failed: {}", name, e.toString());
        timer.schedule(this::reconnect, config.reconnectInterval.toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
      if (closed.get()) {
        fresh.close();
        return;
      }
      client = fresh;
    }
    synchronized (connectedSignal) {
      connectedSignal.notifyAll();
    }
    // A partition consumer is subscribed again here only after this transport's own drop to give
    // back messages, when the new connection came within two member heartbeats: its member was
    // silent for three at most (its last hello came up to one before the drop), and the others take
    // a partition only two heartbeats after they dropped a member silent for three. After any other
    // loss its group gives the partition up and takes it again once no other member holds it
    // (PartitionGroup): cut off for three member heartbeats, the member was dropped by the others,
    // who may have taken its partitions meanwhile, and subscribing them again here gave a partition
    // two consumers (full-size M1 runs on STOMP: keys out of order).
    boolean partitionsToo =
        lost != null
            && lost == droppedToGiveBack
            && System.nanoTime() - droppedAt < 2 * config.memberHeartbeat.toNanos();
    reconnects.incrementAndGet();
    log.info("{}: reconnected to the STOMP broker at {}", name, nodes.get(current));
    // Restore the subscriptions (each waits for its receipt, which the reader thread delivers).
    for (StompConsumer c : consumers) {
      if (!c.isRestored() && !partitionsToo) {
        continue; // ended with the lost connection: its partition group takes it again
      }
      try {
        c.attach(fresh);
      } catch (RuntimeException e) {
        if (e instanceof TransportException t && refusesTheDestination(t)) {
          // The broker refuses it now (a permission taken away, or its queue declared again with
          // other arguments): it would refuse it on every connection, and each refusal closes the
          // connection under every other subscription. Its messages stay in the broker.
          log.error(
              "{}: the broker refuses the subscription to {} and closed the connection; that"
                  + " subscription stops here, the others go on: {}",
              name,
              c.source(),
              e.getMessage());
          stopConsumer(c, Duration.ZERO);
        } else {
          log.warn("{}: cannot restore a subscription: {}", name, e.toString());
        }
      }
    }
  }

  /**
   * Drops {@code client} so that RabbitMQ gives back the messages {@code stopping} can no longer
   * settle on it. The connection's other consumers first stop handing out messages and finish what
   * they handed out (up to the close timeout), so their acknowledgements go out before the drop: a
   * message being handled when the connection dropped would be delivered again after the reconnect,
   * handled twice (found by {@code membersJoinWhileABacklogWaits}: partition hand-overs on one
   * connection). The drop waits for a DISCONNECT receipt, so the broker has applied those
   * acknowledgements (a plain socket close lost some). What they had not handed out comes back from
   * the broker, in order.
   */
  void dropToGiveBack(StompClient client, StompConsumer stopping) {
    List<StompConsumer> others = new ArrayList<>();
    for (StompConsumer c : consumers) {
      if (c != stopping && c.attachedTo() == client && !c.isStopped()) {
        others.add(c);
      }
    }
    others.forEach(StompConsumer::pause);
    try {
      long deadline = System.nanoTime() + config.closeTimeout.toNanos();
      for (StompConsumer c : others) {
        c.awaitIdle(Durations.until(deadline));
      }
      droppedAt = System.nanoTime();
      droppedToGiveBack = client;
      client.dropAfterReceipt(
          "giving back the messages of a stopped subscription", config.sendTimeout);
    } finally {
      others.forEach(StompConsumer::resume);
    }
  }

  void register(String subscriptionId, StompConsumer consumer) {
    bySubscription.put(subscriptionId, consumer);
  }

  void unregister(String subscriptionId) {
    bySubscription.remove(subscriptionId);
  }

  /** A SUBSCRIBE/UNSUBSCRIBE/... frame with a receipt, due within the send timeout. */
  CompletableFuture<Void> withReceipt(StompClient client, StompFrame frame) {
    return client.writeWithReceipt(frame, config.sendTimeout);
  }

  /** Waits for a receipt within the send timeout; failures as {@link TransportException}. */
  void await(CompletableFuture<Void> receipt, String what) {
    try {
      receipt.get(config.sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new TransportException(
          dev.parley.transport.spi.Transport.SEND_TIMEOUT,
          "no receipt from the broker within " + config.sendTimeout + " to " + what,
          e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof TransportException t
          ? t
          : new TransportException(
              "parley.transport.subscribe", "cannot " + what + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransportException("parley.transport.interrupted", "interrupted", e);
    }
  }

  /** The connection now, open or not; null before the first. */
  StompClient currentClient() {
    return client;
  }

  /** The open connection, or a failure at once when there is none. */
  StompClient connectedClient() {
    StompClient c = client;
    if (c == null || !c.isOpen()) {
      throw new TransportException(
          "parley.transport.connection_lost", "not connected to the STOMP broker", null);
    }
    return c;
  }

  /**
   * The open connection; while a reconnect is under way (after a loss, or after a stopped
   * subscription dropped the connection to give messages back) it waits for it, up to the send
   * timeout.
   */
  StompClient awaitConnectedClient() {
    long deadline = System.nanoTime() + config.sendTimeout.toNanos();
    synchronized (connectedSignal) {
      while (true) {
        StompClient c = client;
        if (c != null && c.isOpen()) {
          return c;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || closed.get()) {
          throw new TransportException(
              "parley.transport.connection_lost", "not connected to the STOMP broker", null);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(connectedSignal, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new TransportException(
              "parley.transport.connection_lost", "interrupted waiting for the connection", e);
        }
      }
    }
  }

  // ---- send ------------------------------------------------------------------------------------

  @Override
  public CompletableFuture<Void> send(
      Destination destination, Message message, SendOptions options) {
    if (closed.get()) {
      return dev.parley.transport.spi.Transport.closedFailure();
    }
    Map<String, String> headers;
    try {
      headers = dialect.sendHeaders(destination, message, options.delay(), options.persistent());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new TransportException("parley.transport.destination", e.getMessage(), e));
    } catch (BadInputException e) {
      return CompletableFuture.failedFuture(e); // a header the broker acts on (ReservedHeaders)
    }
    String target = headers.get("destination");
    RefusedSend refused = refusedSends.get(target);
    if (refused != null) {
      if (System.nanoTime() - refused.until() < 0) {
        return CompletableFuture.failedFuture(
            new TransportException(
                refused.failure().status().errorCode(),
                refused.failure().getMessage()
                    + " (not sent: the broker refused this destination less than "
                    + REFUSAL_PAUSE.toSeconds()
                    + " s ago, and each refusal closes the connection)",
                refused.failure()));
      }
      refusedSends.remove(target, refused);
    }
    StompClient c;
    try {
      c = connectedClient();
    } catch (TransportException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (!options.confirmed()) {
      // A request: its reply confirms it (SendOptions.REQUEST), so no RECEIPT — the broker would
      // spend a round trip and a header line on it, and the plugin copies it into the message.
      try {
        c.write("SEND", headers, Payloads.shared(message));
        return CompletableFuture.completedFuture(null);
      } catch (TransportException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    // A copy, so a caller cannot complete the client's own future; it fails with
    // parley.transport.send_timeout when its receipt is overdue (PendingSends).
    CompletableFuture<Void> sent =
        c.writeWithReceipt("SEND", headers, Payloads.shared(message), config.sendTimeout).copy();
    sent.whenComplete(
        (ok, failure) -> {
          Throwable cause = failure instanceof CompletionException w ? w.getCause() : failure;
          if (cause instanceof TransportException t && refusesTheDestination(t)) {
            refusedSends.put(
                target, new RefusedSend(System.nanoTime() + REFUSAL_PAUSE.toNanos(), t));
          }
        });
    return sent;
  }

  /** Whether the broker refused what the frame named, rather than the frame or the connection. */
  static boolean refusesTheDestination(TransportException e) {
    String code = e.status().errorCode();
    return StompClient.ACCESS_REFUSED.equals(code) || StompClient.TOPOLOGY.equals(code);
  }

  /** Sends without asking for a receipt (member announcements); false when not connected. */
  boolean sendQuietly(Map<String, String> headers, byte[] body) {
    StompClient c = client;
    if (c == null || !c.isOpen()) {
      return false;
    }
    try {
      c.write("SEND", headers, body);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  // ---- subscribe -------------------------------------------------------------------------------

  @Override
  public TransportSubscription subscribe(
      Destination source, ConsumerSettings settings, DeliveryHandler handler) {
    ensureOpen();
    if (source instanceof Destination.Event) {
      throw new IllegalArgumentException(
          "source: " + source + " (expected: a group queue or a queue, not an event channel)");
    }
    TransportSubscription subscription;
    if (settings.partitioned()
        && source instanceof Destination.GroupQueue g
        && dialect instanceof Dialect.RabbitMq rabbit) {
      StompPartitions partitions =
          new StompPartitions(
              this, rabbit, g, settings.concurrency(), settings.prefetch(), handler);
      partitions.start();
      subscription = partitions;
    } else {
      Map<String, String> headers =
          dialect.subscribeHeaders(source, settings.prefetch(), settings.temporary());
      if (settings.temporary() && dialect instanceof Dialect.RabbitMq) {
        // A reply queue: its messages are answers to this instance's own requests, worth nothing
        // once it is gone (RabbitMQ deletes the queue with the connection), so the broker need not
        // wait for an ACK per reply. Settling such a message sends nothing. Not on Artemis: there
        // an ack:auto subscription stopped receiving once its consumer-window-size of replies had
        // come (TCK aFirstDeadLetterAfterAFailureReplyDoesNotStallLaterRequests, batch 3).
        headers.put("ack", "auto");
      }
      List<StompConsumer> started = new ArrayList<>();
      try {
        for (int i = 0; i < settings.concurrency(); i++) {
          // A reply queue's messages go away with it ("t…"): nothing to give back when it stops
          StompConsumer c =
              newConsumer(
                  headers, source, handler, settings.prefetch(), !settings.temporary(), true);
          started.add(c);
          c.attach(awaitConnectedClient());
        }
      } catch (RuntimeException e) {
        started.forEach(c -> stopConsumer(c, Duration.ZERO));
        throw e;
      }
      subscription =
          new TransportSubscription() {
            private final AtomicBoolean done = new AtomicBoolean();

            @Override
            public void close() {
              if (done.compareAndSet(false, true)) {
                started.forEach(c -> stopConsumer(c, config.closeTimeout));
                subscriptions.remove(this);
              }
            }
          };
    }
    subscriptions.add(subscription);
    return subscription;
  }

  StompConsumer newConsumer(
      Map<String, String> headers, Destination source, DeliveryHandler handler, int prefetch) {
    return newConsumer(headers, source, handler, prefetch, true, true);
  }

  /**
   * @param givesBack whether messages left unacknowledged must go back to the broker (false for a
   *     subscription whose queue goes away with it)
   * @param restored whether a reconnect subscribes it again by itself (false for a partition
   *     consumer, see {@link #reconnect})
   */
  StompConsumer newConsumer(
      Map<String, String> headers,
      Destination source,
      DeliveryHandler handler,
      int prefetch,
      boolean givesBack,
      boolean restored) {
    // "s": its messages must go back to the broker; "t": they go away with its queue
    String id = (givesBack ? "s" : "t") + nextSubscription.incrementAndGet();
    ExecutorService worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, name + "-worker-" + workers.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    StompConsumer c =
        new StompConsumer(
            this, id, headers, source, worker, handler, prefetch, givesBack, restored);
    consumers.add(c);
    return c;
  }

  void stopConsumer(StompConsumer c, Duration timeout) {
    consumers.remove(c);
    c.stop(timeout);
    c.worker().shutdown();
  }

  void forget(TransportSubscription s) {
    subscriptions.remove(s);
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("the STOMP transport is closed");
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    long deadline = System.nanoTime() + config.closeTimeout.toNanos();
    for (TransportSubscription s : List.copyOf(subscriptions)) {
      try {
        s.close();
      } catch (RuntimeException e) {
        log.debug("{}: closing a subscription failed: {}", name, e.toString());
      }
    }
    StompClient c = client;
    if (c != null) {
      // Sends in flight get the broker's answer (in what is left of the close timeout) before the
      // DISCONNECT.
      c.finishPending(
          Durations.until(deadline),
          new TransportException(
              Transport.CLOSED, "the transport closed before the broker's receipt", null));
      c.disconnect(Duration.ofSeconds(Math.min(5, config.closeTimeout.toSeconds() + 1)));
    }
    StompClient copy = copies;
    if (copy != null) {
      // A copy still on its way: its message, not acknowledged, comes again to the next consumer
      // and is copied again.
      copy.close();
    }
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
