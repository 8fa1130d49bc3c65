package dev.parley.transport.amqp;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.transport.spi.BrokerAddresses;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.PendingSends;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import jakarta.jms.CompletionListener;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.qpid.jms.JmsConnection;
import org.apache.qpid.jms.JmsConnectionFactory;
import org.apache.qpid.jms.JmsConnectionListener;
import org.apache.qpid.jms.message.JmsInboundMessageDispatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AmqpTransport} on Qpid JMS with its failover provider. Sends run on one dedicated thread
 * (JMS sessions are single-threaded) as asynchronous sends whose completion is the broker's
 * settlement; each subscription consumer has its own session and delivery thread.
 *
 * <p>Why not on the caller's thread, as the RabbitMQ publisher does: Qpid JMS waits in every send,
 * one with a {@code CompletionListener} too, until its provider thread has taken the message
 * ({@code JmsConnection.send} ends in {@code request.sync()}), and a producer without link credit
 * holds it there until credit comes or the send timeout passes, as the failover provider does while
 * it reconnects. On the caller's thread that wait would still cost the hop to the provider thread,
 * block user threads for as long as the broker withholds credit, and block Qpid's own completion
 * thread when a send is chained on another send's completion.
 */
final class QpidAmqpTransport implements AmqpTransport {

  private static final Logger log = LoggerFactory.getLogger(QpidAmqpTransport.class);
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final URI brokerUri;
  private final String safeUri;

  /** The brokers, each with its port: the URI's host alone, or the builder's addresses. */
  private final List<BrokerAddresses.HostAndPort> nodes;

  private final Duration sendTimeout;

  /** The code of a send refused because {@code maxPendingSends} sends wait already. */
  static final String BACKLOG_FULL = "parley.transport.backlog_full";

  private final int maxPendingSends;
  private final Duration closeTimeout;
  private final boolean answerTemporaryQueues;
  private final AutoCloseable onClose;

  /** The connection; replaced when Qpid JMS gave one up for good (a refused login). */
  private volatile Connection connection;

  private final JmsConnectionFactory factory;
  private final Duration reconnectDelay;
  private final Duration maxReconnectDelay;

  /** Held while a new connection is swapped in, and while close() closes the connection. */
  private final Object swapLock = new Object();

  private final ExecutorService sendThread;

  /** Sends waiting for the broker's outcome, in the order they were made; they time out here. */
  private final PendingSends<PendingSend> pendingSends =
      new PendingSends<>(
          "the broker did not accept the message",
          (send, timedOut) -> send.future().completeExceptionally(timedOut));

  private final java.util.concurrent.atomic.AtomicLong sendSequence =
      new java.util.concurrent.atomic.AtomicLong();

  /** Sends handed to the send thread and not started yet. */
  private final java.util.concurrent.atomic.AtomicInteger queuedSends =
      new java.util.concurrent.atomic.AtomicInteger();

  /** The sends' session and producer, used on the send thread. */
  private final ProducerLink sends;

  private final PrefetchPolicy prefetch = new PrefetchPolicy();
  private final Set<AmqpSubscription> subscriptions = ConcurrentHashMap.newKeySet();
  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicBoolean connected = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Counted down by close(): ends connectAgainLater's wait between two tries at once. */
  private final CountDownLatch closing = new CountDownLatch(1);

  QpidAmqpTransport(AmqpTransport.Builder b) {
    this.brokerUri = b.brokerUri;
    this.nodes =
        BrokerAddresses.nodes(
            brokerUri, b.addresses, "amqps".equals(brokerUri.getScheme()) ? 5671 : 5672);
    this.safeUri =
        brokerUri.getScheme()
            + "://"
            + nodes.stream()
                .map(Object::toString)
                .collect(java.util.stream.Collectors.joining(","));
    this.sendTimeout = b.sendTimeout;
    this.maxPendingSends = b.maxPendingSends;
    this.closeTimeout = b.closeTimeout;
    this.answerTemporaryQueues = b.answerTemporaryQueues;
    this.onClose = b.onClose;
    int instance = INSTANCES.incrementAndGet();
    this.sendThread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "parley-amqp-send-" + instance);
              t.setDaemon(true);
              return t;
            });
    this.reconnectDelay = b.reconnectDelay;
    this.maxReconnectDelay = b.maxReconnectDelay;
    this.factory = new JmsConnectionFactory(failoverUri(b));
    if (b.sslContext != null) {
      factory.setSslContext(b.sslContext);
    }
    factory.setPrefetchPolicy(prefetch);
    String userInfo = brokerUri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      factory.setUsername(decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
      if (colon >= 0) {
        factory.setPassword(decode(userInfo.substring(colon + 1)));
      }
    }
    Connection c = null;
    try {
      if ("amqps".equals(brokerUri.getScheme())) {
        refuseAnUntrustedCertificate(b);
      }
      c = connect();
      connected.set(true);
      this.connection = c;
      this.sends = new ProducerLink(c, DeliveryMode.PERSISTENT, "sends to " + safeUri());
    } catch (JMSException | RuntimeException e) {
      closeQuietly(c);
      sendThread.shutdownNow();
      closeQuietly(onClose);
      if (e instanceof TransportException refused) {
        throw refused;
      }
      throw new TransportException(
          securityRefusal(e)
              ? "parley.amqp.authentication_failed"
              : dev.parley.transport.spi.TlsFailures.certificateRefusal(e) != null
                  ? TLS_FAILED
                  : "parley.transport.connect_failed",
          "cannot connect to AMQP broker " + safeUri(),
          e);
    }
  }

  /** The code of a start-up refused by TLS: the broker's certificate was not trusted. */
  static final String TLS_FAILED = "parley.amqp.tls_failed";

  /**
   * Shakes hands with the first broker that answers, as Qpid JMS will (this context, the host name
   * verified), and fails at once if that broker's certificate is refused: Qpid JMS's failover would
   * try it again at every start-up attempt, though it would be refused every time. A broker that
   * does not answer, or a handshake cut short, is left to those attempts.
   */
  private void refuseAnUntrustedCertificate(AmqpTransport.Builder b) {
    javax.net.ssl.SSLSocketFactory sockets;
    try {
      sockets =
          (b.sslContext != null ? b.sslContext : javax.net.ssl.SSLContext.getDefault())
              .getSocketFactory();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
    int connectTimeout = (int) Math.min(b.sendTimeout.toMillis(), 5000);
    for (BrokerAddresses.HostAndPort node : nodes) {
      try (java.net.Socket plain = new java.net.Socket()) {
        plain.connect(new java.net.InetSocketAddress(node.host(), node.port()), connectTimeout);
        plain.setSoTimeout(connectTimeout);
        try (javax.net.ssl.SSLSocket secure =
            (javax.net.ssl.SSLSocket) sockets.createSocket(plain, node.host(), node.port(), true)) {
          javax.net.ssl.SSLParameters parameters = secure.getSSLParameters();
          parameters.setEndpointIdentificationAlgorithm("HTTPS");
          secure.setSSLParameters(parameters);
          secure.startHandshake();
          return; // trusted: Qpid JMS takes it from here
        }
      } catch (java.io.IOException e) {
        Throwable refusal = dev.parley.transport.spi.TlsFailures.certificateRefusal(e);
        if (refusal != null) {
          throw new TransportException(
              TLS_FAILED,
              "TLS with the AMQP broker at " + node + " failed: " + refusal.getMessage(),
              e);
        }
        log.debug("TLS check of the AMQP broker at {}: {}", node, e.toString());
      }
    }
  }

  /** A started connection with this transport's listeners. */
  private Connection connect() throws JMSException {
    Connection c = factory.createConnection();
    try {
      ((JmsConnection) c).addConnectionListener(new Listener(c));
      c.setExceptionListener(
          e -> {
            if (c != connection) {
              return; // a new connection that could not be made: connectAgainLater says so
            }
            (interrupted(e) ? log.atDebug() : log.atWarn())
                .log(
                    "AMQP connection to {} failed: {}",
                    safeUri(),
                    dev.parley.transport.spi.Redaction.text(e.getMessage(), brokerUri));
          });
      c.start();
      return c;
    } catch (JMSException | RuntimeException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /** Refusals of a new connection repeat with every try: bounded. */
  private static final dev.parley.transport.spi.LogLimiter REFUSALS =
      dev.parley.transport.spi.LogLimiter.of(5, 60);

  /**
   * Connects again after Qpid JMS gave the connection up for good — it stops reconnecting when the
   * broker refuses the login (a SASL outcome other than {@code sys-temp}: a security backend not up
   * yet after a restart, credentials rotated out of order), and every send and subscription would
   * stay dead for as long as the process lives. A thread of its own tries a new connection with the
   * reconnect backoff until one opens or the transport closes, then swaps it in: the sends' and
   * replies' sessions and every subscription's consumers are opened on it (as after a session the
   * broker closed).
   */
  private void connectAgainLater() {
    Thread t =
        new Thread(
            () -> {
              long delay = reconnectDelay.toMillis();
              while (!closed.get()) {
                try {
                  if (closing.await(delay, TimeUnit.MILLISECONDS)) {
                    return; // closed while it waited
                  }
                } catch (InterruptedException e) {
                  return;
                }
                delay = Math.min(delay * 2, maxReconnectDelay.toMillis());
                if (closed.get()) {
                  return;
                }
                Connection fresh;
                try {
                  fresh = connect();
                } catch (JMSException | RuntimeException e) {
                  REFUSALS.warn(
                      log,
                      "AMQP connection to {} still cannot be made: {}",
                      safeUri(),
                      dev.parley.transport.spi.Redaction.text(e.getMessage(), brokerUri));
                  continue;
                }
                synchronized (swapLock) {
                  if (closed.get()) {
                    closeQuietly(fresh);
                    return;
                  }
                  Connection old = connection;
                  connection = fresh;
                  closeQuietly(old);
                  sends.reopenOn(fresh);
                  for (AmqpSubscription s : subscriptions) {
                    s.reopenOn(fresh);
                  }
                  connected.set(true);
                  reconnects.incrementAndGet();
                }
                log.info("AMQP connection to {} made again (a new connection)", safeUri());
                return;
              }
            },
            "parley-amqp-connect-again");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public String name() {
    return "amqp";
  }

  /**
   * Artemis's temporary queues, when the builder said so ({@link
   * AmqpTransport.Builder#answerTemporaryQueues}).
   */
  @Override
  public boolean isNativeReplyAddress(String queue) {
    return answerTemporaryQueues && AmqpAddresses.isTemporaryQueueName(queue);
  }

  /** {@code C::C.G} for a group queue: on Artemis only the fully qualified name reaches it. */
  @Override
  public String address(Destination destination) {
    return AmqpAddresses.address(destination);
  }

  @Override
  public long reconnects() {
    return reconnects.get();
  }

  @Override
  public boolean isConnected() {
    return connected.get() && !closed.get();
  }

  @Override
  public CompletableFuture<Void> send(
      Destination destination, Message message, SendOptions options) {
    if (closed.get()) {
      return dev.parley.transport.spi.Transport.closedFailure();
    }
    // Both bounds: sends waiting for the send thread (they stay queued after they time out, until
    // the thread reaches them — it may be stuck in a send while the link is down), and sends
    // waiting for the broker's outcome.
    if (queuedSends.get() >= maxPendingSends || pendingSends.size() >= maxPendingSends) {
      return CompletableFuture.failedFuture(
          new TransportException(
              BACKLOG_FULL,
              maxPendingSends
                  + " sends already wait for the broker's outcome (it is slow or unreachable);"
                  + " this one was not queued",
              null));
    }
    long seq = sendSequence.incrementAndGet();
    PendingSend pending = new PendingSend(sendTimeout);
    pendingSends.put(seq, pending);
    CompletableFuture<Void> result = pending.future();
    queuedSends.incrementAndGet();
    try {
      sendThread.execute(() -> doSend(destination, message, options, seq, result));
    } catch (RejectedExecutionException e) {
      queuedSends.decrementAndGet();
      settle(
          seq,
          result,
          new TransportException(
              dev.parley.transport.spi.Transport.CLOSED, "the transport is closed", e));
    }
    return result.exceptionallyCompose(QpidAmqpTransport::classify);
  }

  /** One send waiting for the broker's outcome; it fails once the send timeout passes. */
  private static final class PendingSend extends PendingSends.Send {
    PendingSend(Duration timeout) {
      super(timeout);
    }
  }

  /** Ends a send with the broker's outcome (null: accepted) unless it timed out already. */
  private void settle(long seq, CompletableFuture<Void> result, Throwable failure) {
    pendingSends.remove(seq);
    if (failure == null) {
      result.complete(null);
    } else {
      result.completeExceptionally(failure);
    }
  }

  private void doSend(
      Destination destination,
      Message message,
      SendOptions options,
      long seq,
      CompletableFuture<Void> result) {
    queuedSends.decrementAndGet();
    if (result.isDone()) {
      return; // timed out while queued
    }
    try {
      ProducerLink.Parts link = sends.parts(); // the send thread
      MessageProducer producer = link.producer();
      jakarta.jms.Message jms = link.messages().toJms(message);
      long ttl = link.messages().timeToLive(message);
      producer.setDeliveryDelay(options.delay().toMillis());
      producer.send(
          AmqpAddresses.forSend(link.session(), destination),
          jms,
          options.persistent() ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT,
          jakarta.jms.Message.DEFAULT_PRIORITY,
          ttl,
          new CompletionListener() {
            @Override
            public void onCompletion(jakarta.jms.Message m) {
              settle(seq, result, null);
            }

            @Override
            public void onException(jakarta.jms.Message m, Exception e) {
              settle(seq, result, e);
            }
          });
    } catch (JMSException | RuntimeException e) {
      settle(seq, result, e);
    }
  }

  /** Qpid JMS's message for a send whose connection dropped before the broker's outcome. */
  private static final String CONNECTION_LOSS = "Send failed due to connection loss";

  private static CompletableFuture<Void> classify(Throwable failure) {
    Throwable t =
        failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (t instanceof TransportException) {
      return CompletableFuture.failedFuture(t);
    }
    if (t instanceof org.apache.qpid.jms.JmsSendTimedOutException) {
      // Qpid's own send timeout (jms.sendTimeout, the same as ours) may fire first: the same
      // outcome, so the same code
      return CompletableFuture.failedFuture(
          new TransportException(
              dev.parley.transport.spi.Transport.SEND_TIMEOUT,
              "the broker did not accept the message in time",
              t));
    }
    if (t instanceof JMSException && CONNECTION_LOSS.equals(t.getMessage())) {
      // Qpid JMS fails the sends still waiting for the broker's outcome so when the connection
      // drops (JmsSession.onConnectionInterrupted): an unknown outcome, as on every transport
      return CompletableFuture.failedFuture(
          new TransportException(
              "parley.transport.connection_lost",
              "the connection to the broker was lost before its outcome; the message may or may"
                  + " not have arrived",
              t));
    }
    return CompletableFuture.failedFuture(
        new TransportException(
            securityRefusal(t) ? "parley.amqp.access_refused" : "parley.transport.send_failed",
            "broker refused or lost the message: " + t.getMessage(),
            t));
  }

  /**
   * Whether the broker refused for want of credentials or a permission (qpid-jms raises {@code
   * JMSSecurityException} for AMQP's {@code amqp:unauthorized-access}).
   */
  static boolean securityRefusal(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof jakarta.jms.JMSSecurityException
          || t instanceof jakarta.jms.JMSSecurityRuntimeException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public TransportSubscription subscribe(
      Destination source, ConsumerSettings settings, DeliveryHandler handler) {
    if (source instanceof Destination.Event) {
      throw new IllegalArgumentException(
          "source: " + source + " (expected: a queue or group queue)");
    }
    if (closed.get()) {
      throw new IllegalStateException("transport is closed");
    }
    String address = AmqpAddresses.address(source);
    prefetch.set(address, settings.prefetch());
    // Under the swap lock: a new connection swapped in (connectAgainLater) between reading the
    // connection and joining the subscriptions would leave this subscription on the dead one, and
    // one swapped in while it opens could leave its replies on it (reopenOn sees no replies yet).
    // The swap waits for the open instead, then moves the subscription like every other one.
    synchronized (swapLock) {
      if (closed.get()) {
        throw new IllegalStateException("transport is closed");
      }
      AmqpSubscription subscription =
          new AmqpSubscription(
              connection,
              source,
              settings,
              handler,
              closeTimeout,
              connected::get, // not isConnected(): a closing transport drains its subscriptions
              subscriptions::remove);
      subscriptions.add(subscription);
      try {
        subscription.open();
      } catch (RuntimeException e) {
        subscription.close();
        throw e;
      }
      return subscription;
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closing.countDown();
    // Under the swap lock: a subscribe() that is opening one finishes first, and any later one
    // finds the transport closed, so none is left out of this round.
    synchronized (swapLock) {
      for (AmqpSubscription s : subscriptions) {
        s.close();
      }
    }
    // Queued sends go out while the link is up; while it is down none can (the send thread waits
    // in one for the connection to come back), so the connection is closed at once, which ends it.
    sendThread.shutdown();
    long deadline = System.nanoTime() + closeTimeout.toNanos();
    try {
      while (connected.get()
          && System.nanoTime() < deadline
          && !sendThread.awaitTermination(20, TimeUnit.MILLISECONDS)) {
        // waiting for the queued sends
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!sendThread.isTerminated()) {
      sendThread.shutdownNow();
    }
    synchronized (swapLock) {
      closeQuietly(connection);
    }
    connected.set(false);
    // Sends the broker never answered (or never saw) fail now rather than at their timeout.
    for (Long seq : pendingSends.sequences()) {
      PendingSend p = pendingSends.remove(seq);
      if (p != null) {
        p.future()
            .completeExceptionally(
                new TransportException(
                    dev.parley.transport.spi.Transport.CLOSED,
                    "transport closed before the broker's outcome",
                    null));
      }
    }
    closeQuietly(onClose);
  }

  private String failoverUri(AmqpTransport.Builder b) {
    String options =
        "?amqp.idleTimeout="
            + b.heartbeat.toMillis()
            + "&transport.connectTimeout="
            + Math.min(b.sendTimeout.toMillis(), 5000);
    String remote =
        nodes.stream()
            .map(
                node ->
                    brokerUri.getScheme()
                        + "://"
                        + node
                        + options
                        + ("amqps".equals(brokerUri.getScheme())
                            ? "&transport.verifyHost=true"
                            : ""))
            .collect(java.util.stream.Collectors.joining(","));
    return "failover:("
        + remote
        + ")"
        // Qpid JMS waits initialReconnectDelay before the first attempt, then reconnectDelay (its
        // own default 10 ms) doubled at each: both are the builder's reconnectDelay
        + "?failover.initialReconnectDelay="
        + b.reconnectDelay.toMillis()
        + "&failover.reconnectDelay="
        + b.reconnectDelay.toMillis()
        + "&failover.maxReconnectDelay="
        + b.maxReconnectDelay.toMillis()
        + "&failover.useReconnectBackOff=true"
        + "&failover.maxReconnectAttempts=-1"
        + "&failover.startupMaxReconnectAttempts="
        + b.startupConnectAttempts
        + "&jms.validatePropertyNames=false"
        + "&jms.sendTimeout="
        + b.sendTimeout.toMillis()
        + "&jms.closeTimeout="
        + b.closeTimeout.toMillis()
        + "&jms.requestTimeout="
        + b.requestTimeout.toMillis()
        + "&jms.forceAsyncAcks=false";
  }

  /**
   * Whether Qpid JMS reports an interrupted wait of its own: a subscription's close interrupts its
   * loops' receives (see {@code AmqpSubscription.wake}), and a receive interrupted while it tells
   * the broker of the delivery reaches the connection's exception listener, though the connection
   * is fine. Not worth a warning.
   */
  static boolean interrupted(JMSException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException
          || (t instanceof JMSException j
              && j.getLinkedException() instanceof InterruptedException)) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** The broker's URI without user or password (every broker's, separated by commas). */
  private String safeUri() {
    return safeUri;
  }

  /** A broker's URI as Qpid JMS reports it, without its options. */
  private static String safeUri(URI remote) {
    return remote == null
        ? "?"
        : remote.getScheme()
            + "://"
            + new BrokerAddresses.HostAndPort(remote.getHost(), remote.getPort());
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      log.debug("close failed", e);
    }
  }

  private final class Listener implements JmsConnectionListener {

    /** The connection it listens to: only the current one's events count. */
    private final Connection owner;

    Listener(Connection owner) {
      this.owner = owner;
    }

    @Override
    public void onConnectionEstablished(URI remoteUri) {
      connected.set(true);
    }

    @Override
    public void onConnectionFailure(Throwable error) {
      if (owner != connection || closed.get()) {
        return;
      }
      connected.set(false);
      log.warn(
          "AMQP connection to {} failed for good: {}; connecting again",
          safeUri(),
          dev.parley.transport.spi.Redaction.text(error.getMessage(), brokerUri));
      connectAgainLater();
    }

    @Override
    public void onConnectionInterrupted(URI remoteUri) {
      connected.set(false);
      log.info("AMQP connection to {} interrupted; reconnecting", safeUri(remoteUri));
    }

    @Override
    public void onConnectionRestored(URI remoteUri) {
      connected.set(true);
      reconnects.incrementAndGet();
      log.info("AMQP connection to {} restored", safeUri(remoteUri));
    }

    @Override
    public void onInboundMessage(JmsInboundMessageDispatch envelope) {}

    @Override
    public void onSessionClosed(Session session, Throwable cause) {
      sends.sessionClosed(session, cause);
      for (AmqpSubscription s : subscriptions) {
        s.sessionClosed(session, cause);
      }
    }

    @Override
    public void onConsumerClosed(jakarta.jms.MessageConsumer consumer, Throwable cause) {
      for (AmqpSubscription s : subscriptions) {
        s.consumerClosed(consumer, cause);
      }
    }

    @Override
    public void onProducerClosed(MessageProducer producer, Throwable cause) {
      sends.producerClosed(producer, cause);
      for (AmqpSubscription s : subscriptions) {
        s.producerClosed(producer, cause);
      }
    }
  }
}
