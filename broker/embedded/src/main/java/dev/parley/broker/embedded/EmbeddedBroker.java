package dev.parley.broker.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.Configuration;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.ActiveMQServer;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.Queue;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Apache Artemis broker in this JVM, speaking AMQP 1.0 and STOMP over TCP on loopback, with a
 * persistent journal in a data directory so messages survive a restart. OpenWire and the Artemis
 * core protocol are not exposed.
 *
 * <pre>{@code
 * try (EmbeddedBroker broker = EmbeddedBroker.builder().dataDirectory(dir).ephemeralPorts().build()) {
 *   broker.start();
 *   URI amqp = broker.amqpUri();
 * }
 * }</pre>
 *
 * The broker may be stopped and started again on the same ports and journal (tests use this to
 * prove durability). Topology conventions it configures (see {@code docs/wire.md}): auto-created
 * queues are kept when their last consumer leaves (subscriber groups keep receiving while offline)
 * except reply queues ({@code parley.reply.#}); message groups rebalance across consumers with
 * dispatch paused until in-flight messages are settled, so per-key order survives rebalancing.
 *
 * <p>Thread-safe: start and stop are serialized.
 */
public final class EmbeddedBroker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);

  /**
   * Artemis's message audit log: a line for every message sent, delivered and acknowledged. Its
   * only switch is the logger's level; Artemis's own distribution sets it off, but embedded in an
   * application whose logging lets INFO through (slf4j-simple's and Spring Boot's defaults) it is
   * on.
   */
  static final String MESSAGE_AUDIT_LOGGER = "org.apache.activemq.audit.message";

  private static final AtomicBoolean AUDIT_WARNED = new AtomicBoolean();

  /** Default AMQP 1.0 port of the zero-configuration broker. */
  public static final int DEFAULT_AMQP_PORT = 61616;

  /** Default STOMP port of the zero-configuration broker. */
  public static final int DEFAULT_STOMP_PORT = 61617;

  private final Path dataDirectory;
  private final String host;
  private final int amqpPort;
  private final int stompPort;
  private final Object lock = new Object();
  private final java.util.Map<String, String> users;
  private final List<Grant> grants;
  private final Path tlsKeyStore;
  private final String tlsPassword;
  private EmbeddedActiveMQ server;

  /** One user's permission on the addresses {@code match} matches (Artemis wildcards). */
  private record Grant(String user, String match, boolean send, boolean consume) {
    /** Whether this grant's match covers every address {@code other} matches. */
    boolean covers(String other) {
      if (match.equals(other) || match.equals("#")) {
        return true;
      }
      return match.endsWith(".#") && other.startsWith(match.substring(0, match.length() - 1));
    }
  }

  private EmbeddedBroker(Builder b) {
    this.dataDirectory = b.dataDirectory;
    this.host = b.host;
    this.amqpPort = b.amqpPort;
    this.stompPort = b.stompPort;
    this.users = java.util.Map.copyOf(b.users);
    this.grants = List.copyOf(b.grants);
    this.tlsKeyStore = b.tlsKeyStore;
    this.tlsPassword = b.tlsPassword;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts the broker; does nothing if it runs already. */
  public EmbeddedBroker start() {
    synchronized (lock) {
      if (server != null) {
        return this;
      }
      EmbeddedActiveMQ s = new EmbeddedActiveMQ();
      s.setConfiguration(configuration());
      if (!users.isEmpty()) {
        // users and their roles (one role per user, named after it); no default user, so a
        // connection without valid credentials is refused
        org.apache.activemq.artemis.core.config.impl.SecurityConfiguration accounts =
            new org.apache.activemq.artemis.core.config.impl.SecurityConfiguration();
        users.forEach(
            (user, password) -> {
              accounts.addUser(user, password);
              accounts.addRole(user, user);
            });
        s.setSecurityManager(
            new org.apache.activemq.artemis.spi.core.security.ActiveMQJAASSecurityManager(
                org.apache.activemq.artemis.spi.core.security.jaas.InVMLoginModule.class.getName(),
                accounts));
      }
      try {
        s.start();
      } catch (Exception e) {
        throw new IllegalStateException("embedded broker failed to start on " + amqpUri(), e);
      }
      server = s;
      String audit = auditWarning();
      if (audit != null && AUDIT_WARNED.compareAndSet(false, true)) {
        log.warn(audit);
      }
      return this;
    }
  }

  /**
   * What to tell the user when the logging backend lets Artemis's message audit log through, or
   * null when it does not. Parley does not change the application's logging configuration; it says
   * once per JVM what the audit log costs and how to turn it off.
   */
  static String auditWarning() {
    if (!LoggerFactory.getLogger(MESSAGE_AUDIT_LOGGER).isInfoEnabled()) {
      return null;
    }
    return "the embedded broker logs every message it receives, delivers and has acknowledged:"
        + " Artemis's message audit log (logger "
        + MESSAGE_AUDIT_LOGGER
        + ") is at INFO in this application's logging configuration; it fills the log and"
        + " costs about 30 % of the broker's throughput (events over AMQP 1.0 logged to a"
        + " file). Unless an audit trail is wanted, set"
        + " logger org.apache.activemq.audit to WARN (slf4j-simple:"
        + " org.slf4j.simpleLogger.log.org.apache.activemq.audit=warn; logback: <logger"
        + " name=\"org.apache.activemq.audit\" level=\"WARN\"/>; Spring Boot:"
        + " logging.level.org.apache.activemq.audit=warn)";
  }

  /** Stops the broker; the journal stays, and {@link #start()} brings the messages back. */
  public void stop() {
    synchronized (lock) {
      if (server == null) {
        return;
      }
      try {
        server.stop();
      } catch (Exception e) {
        throw new IllegalStateException("embedded broker failed to stop", e);
      } finally {
        server = null;
      }
    }
  }

  /** Stops the broker. Idempotent. */
  @Override
  public void close() {
    stop();
  }

  public boolean isRunning() {
    synchronized (lock) {
      return server != null;
    }
  }

  /** The AMQP 1.0 endpoint, {@code amqp://host:port}. */
  public URI amqpUri() {
    return URI.create((tlsKeyStore == null ? "amqp://" : "amqps://") + host + ":" + amqpPort);
  }

  /** The STOMP endpoint, {@code stomp://host:port}. */
  public URI stompUri() {
    return URI.create((tlsKeyStore == null ? "stomp://" : "stomps://") + host + ":" + stompPort);
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** Client connections open right now (0 while stopped). */
  public int connectionCount() {
    ActiveMQServer s = activeServer();
    return s == null ? 0 : s.getConnectionCount();
  }

  /** Consumers attached to a queue right now (0 if the queue does not exist). */
  public int consumerCount(String queue) {
    Queue q = locate(queue);
    return q == null ? 0 : q.getConsumerCount();
  }

  /** Messages in a queue right now, delivered-but-unacknowledged ones included. */
  public long messageCount(String queue) {
    Queue q = locate(queue);
    return q == null ? 0 : q.getMessageCount();
  }

  /** Names of the queues that exist right now. */
  public List<String> queueNames() {
    ActiveMQServer s = activeServer();
    if (s == null) {
      return List.of();
    }
    return s.getPostOffice()
        .getAllBindings()
        .filter(b -> b instanceof org.apache.activemq.artemis.core.postoffice.QueueBinding)
        .map(b -> b.getUniqueName().toString())
        .sorted()
        .toList();
  }

  /**
   * Closes every consumer of a queue from the broker's side, as an operator does with the
   * management operation {@code closeConsumerWithID} (Artemis's console: "close consumer"); their
   * connections and sessions stay open, and an AMQP 1.0 consumer sees its link detached. Returns
   * how many consumers were closed (0 if the queue does not exist).
   */
  public int closeConsumers(String queue) {
    Queue q = locate(queue);
    if (q == null) {
      return 0;
    }
    int closed = 0;
    for (org.apache.activemq.artemis.core.server.Consumer c : List.copyOf(q.getConsumers())) {
      c.disconnect();
      closed++;
    }
    return closed;
  }

  /**
   * Closes every client session on the broker, as an operator does with the management operation
   * {@code closeSessionWithID} (Artemis's console: "close session"): their consumers are closed,
   * their connections stay open. Returns how many sessions were closed.
   */
  public int closeSessions() {
    ActiveMQServer s = activeServer();
    if (s == null) {
      return 0;
    }
    int closed = 0;
    for (org.apache.activemq.artemis.core.server.ServerSession session :
        List.copyOf(s.getSessions())) {
      try {
        if (s.getActiveMQServerControl()
            .closeSessionWithID(session.getConnectionID().toString(), session.getName(), false)) {
          closed++;
        }
      } catch (Exception e) {
        throw new IllegalStateException("cannot close session " + session.getName(), e);
      }
    }
    return closed;
  }

  /**
   * Deletes a queue with its messages, closing its consumers first, as {@code artemis queue delete
   * --removeConsumers} does; an AMQP 1.0 consumer sees its link detached with {@code
   * amqp:resource-deleted}. Returns whether the queue existed.
   */
  public boolean deleteQueue(String queue) {
    ActiveMQServer s = activeServer();
    if (s == null || locate(queue) == null) {
      return false;
    }
    try {
      s.destroyQueue(SimpleString.of(queue), null, false, true);
      return true;
    } catch (Exception e) {
      throw new IllegalStateException("cannot delete queue " + queue, e);
    }
  }

  private Queue locate(String queue) {
    ActiveMQServer s = activeServer();
    return s == null ? null : s.locateQueue(SimpleString.of(queue));
  }

  private ActiveMQServer activeServer() {
    synchronized (lock) {
      return server == null ? null : server.getActiveMQServer();
    }
  }

  /**
   * Deliveries of one message the broker makes before it gives up on it. Parley settles every
   * message it can read or not (handled, redelivered through a delay, dead-lettered), so a message
   * comes back only when the dead letter itself could not be sent; this bound is the last line of
   * defence against a redelivery loop.
   */
  public static final int MAX_DELIVERY_ATTEMPTS = 50;

  /**
   * Where the broker puts a message delivered {@link #MAX_DELIVERY_ATTEMPTS} times: an anycast
   * queue of that name. Artemis's {@code _AMQ_ORIG_QUEUE} property names the queue it came from.
   */
  public static final String DEAD_LETTER_ADDRESS = "parley.broker.dlq";

  private Configuration configuration() {
    Path journal = dataDirectory.resolve("journal");
    ConfigurationImpl config = new ConfigurationImpl();
    config.setName("parley-embedded");
    config.setPersistenceEnabled(true);
    config.setSecurityEnabled(!users.isEmpty());
    if (!users.isEmpty()) {
      securitySettings(config);
    }
    config.setJMXManagementEnabled(false);
    // A refused STOMP SEND's ERROR (and Artemis's log of it) would quote the message's headers.
    config.getOutgoingInterceptorClassNames().add(StompErrorRedaction.class.getName());
    // A refused large message's body file would stay on disk for good (RefusedMessageFiles).
    config.registerBrokerPlugin(new RefusedMessageFiles());
    config.setJournalType(JournalType.NIO);
    config.setJournalFileSize(2 * 1024 * 1024);
    config.setJournalMinFiles(2);
    config.setJournalDirectory(journal.toString());
    config.setBindingsDirectory(dataDirectory.resolve("bindings").toString());
    config.setLargeMessagesDirectory(dataDirectory.resolve("large-messages").toString());
    config.setPagingDirectory(dataDirectory.resolve("paging").toString());
    config.setNodeManagerLockDirectory(dataDirectory.toString());
    config.setMaxDiskUsage(-1);
    config.setGracefulShutdownEnabled(false);
    try {
      String tls =
          tlsKeyStore == null
              ? ""
              : ";sslEnabled=true;keyStorePath="
                  + tlsKeyStore.toAbsolutePath()
                  + ";keyStorePassword="
                  + tlsPassword
                  + ";keyStoreType=PKCS12";
      config.addAcceptorConfiguration(
          "amqp", "tcp://" + host + ":" + amqpPort + "?protocols=AMQP" + tls);
      config.addAcceptorConfiguration(
          "stomp", "tcp://" + host + ":" + stompPort + "?protocols=STOMP" + tls);
    } catch (Exception e) {
      throw new IllegalStateException("bad acceptor configuration", e);
    }
    AddressSettings all =
        new AddressSettings()
            .setAutoCreateAddresses(true)
            .setAutoCreateQueues(true)
            .setAutoDeleteQueues(false)
            .setAutoDeleteAddresses(false)
            .setMaxDeliveryAttempts(MAX_DELIVERY_ATTEMPTS)
            .setDeadLetterAddress(SimpleString.of(DEAD_LETTER_ADDRESS))
            // No group rebalancing: a key (message group) stays with its consumer until that
            // consumer leaves. Rebalancing with pause-dispatch stalled a queue for good when a
            // consumer joined with nothing in flight (Artemis re-checks only on its next delivery
            // attempt, not on the acknowledgement that empties the in-flight set: see
            // BacklogConcurrencyIT); rebalancing without the pause could reorder a key.
            .setDefaultGroupRebalance(false);
    AddressSettings replies =
        new AddressSettings()
            .setAutoCreateAddresses(true)
            .setAutoCreateQueues(true)
            .setAutoDeleteQueues(true)
            .setAutoDeleteAddresses(true)
            .setMaxDeliveryAttempts(MAX_DELIVERY_ATTEMPTS)
            .setDeadLetterAddress(SimpleString.of(DEAD_LETTER_ADDRESS));
    AddressSettings deadLetters =
        new AddressSettings()
            .setAutoCreateAddresses(true)
            .setAutoCreateQueues(true)
            .setAutoDeleteQueues(false)
            .setAutoDeleteAddresses(false)
            .setMaxDeliveryAttempts(-1);
    config.addAddressSetting("#", all);
    config.addAddressSetting("parley.reply.#", replies);
    config.addAddressSetting(DEAD_LETTER_ADDRESS, deadLetters);
    config.addQueueConfiguration(
        QueueConfiguration.of(DEAD_LETTER_ADDRESS)
            .setAddress(DEAD_LETTER_ADDRESS)
            .setRoutingType(RoutingType.ANYCAST)
            .setDurable(true));
    return config;
  }

  /**
   * Artemis applies only the most specific security setting that matches an address, not a union;
   * so each match gets the roles of every grant whose match covers it.
   */
  private void securitySettings(ConfigurationImpl config) {
    java.util.Set<String> matches = new java.util.LinkedHashSet<>();
    grants.forEach(g -> matches.add(g.match()));
    for (String match : matches) {
      java.util.Map<String, boolean[]> byUser = new java.util.LinkedHashMap<>();
      for (Grant g : grants) {
        if (g.covers(match)) {
          boolean[] p = byUser.computeIfAbsent(g.user(), u -> new boolean[2]);
          p[0] |= g.send();
          p[1] |= g.consume();
        }
      }
      java.util.Set<org.apache.activemq.artemis.core.security.Role> roles =
          new java.util.HashSet<>();
      byUser.forEach(
          (user, p) -> {
            boolean send = p[0];
            boolean consume = p[1];
            roles.add(
                new org.apache.activemq.artemis.core.security.Role(
                    user,
                    send,
                    consume,
                    send || consume, // createDurableQueue: queues are created on first use
                    false, // deleteDurableQueue
                    consume, // createNonDurableQueue: reply queues
                    consume, // deleteNonDurableQueue
                    false, // manage
                    consume, // browse
                    send || consume, // createAddress
                    false)); // deleteAddress
          });
      config.putSecurityRoles(match, roles);
    }
  }

  /** Whether the broker asks for credentials (users were configured). */
  public boolean authenticates() {
    return !users.isEmpty();
  }

  /** Configures an {@link EmbeddedBroker}. Not thread-safe. */
  public static final class Builder {
    private Path dataDirectory;
    private String host = "127.0.0.1";
    private int amqpPort = DEFAULT_AMQP_PORT;
    private int stompPort = DEFAULT_STOMP_PORT;
    private final java.util.Map<String, String> users = new java.util.LinkedHashMap<>();
    private final List<Grant> grants = new ArrayList<>();
    private Path tlsKeyStore;
    private String tlsPassword;

    private Builder() {}

    /**
     * Speaks TLS only on both ports, with the key and certificate in a PKCS#12 key store; the URIs
     * become {@code amqps://} and {@code stomps://}.
     */
    public Builder tls(Path pkcs12KeyStore, String password) {
      this.tlsKeyStore = Objects.requireNonNull(pkcs12KeyStore, "pkcs12KeyStore");
      this.tlsPassword = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Adds a user: the broker then authenticates every connection (no anonymous access) and a user
     * may send and consume only where {@link #allowSend} and {@link #allowConsume} say.
     */
    public Builder user(String name, String password) {
      if (name == null || name.isBlank() || password == null || password.isEmpty()) {
        throw new IllegalArgumentException("user: a name and a password are required");
      }
      users.put(name, password);
      return this;
    }

    /**
     * Lets {@code user} send to the addresses {@code matches} match (Artemis wildcards: {@code #}
     * any words, {@code *} one word; e.g. {@code kitchen.#}, {@code parley.reply.#}), creating them
     * and their queues on first use.
     */
    public Builder allowSend(String user, String... matches) {
      return grant(user, matches, true, false);
    }

    /**
     * Lets {@code user} consume from the addresses {@code matches} match (its group queues, its
     * command queue, its reply queues {@code parley.reply.<service>.#}), creating them on first
     * use.
     */
    public Builder allowConsume(String user, String... matches) {
      return grant(user, matches, false, true);
    }

    private Builder grant(String user, String[] matches, boolean send, boolean consume) {
      if (!users.containsKey(user)) {
        throw new IllegalArgumentException("user: " + user + " (expected: added with user(..))");
      }
      for (String match : matches) {
        grants.add(new Grant(user, Objects.requireNonNull(match, "match"), send, consume));
      }
      return this;
    }

    /** Where the journal lives; required. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
      return this;
    }

    /**
     * The address to listen on; default {@code 127.0.0.1}. Without {@linkplain #user users} the
     * broker has no authentication, so it then refuses to listen on anything but loopback.
     */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      try {
        InetAddress.getByName(host);
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("host: " + host + " (expected: resolvable)", e);
      }
      this.host = host;
      return this;
    }

    public Builder amqpPort(int port) {
      this.amqpPort = port;
      return this;
    }

    public Builder stompPort(int port) {
      this.stompPort = port;
      return this;
    }

    /** Picks two free ports now; they stay the same across stop and start. */
    public Builder ephemeralPorts() {
      this.amqpPort = freePort(host);
      this.stompPort = freePort(host);
      return this;
    }

    public EmbeddedBroker build() {
      try {
        if (users.isEmpty() && !InetAddress.getByName(host).isLoopbackAddress()) {
          throw new IllegalArgumentException(
              "host: "
                  + host
                  + " (expected: a loopback address; without users the embedded broker has no"
                  + " authentication)");
        }
      } catch (java.net.UnknownHostException e) {
        throw new IllegalArgumentException("host: " + host + " (expected: resolvable)", e);
      }
      if (dataDirectory == null) {
        throw new IllegalStateException("dataDirectory: not set (expected: a writable directory)");
      }
      try {
        Files.createDirectories(dataDirectory);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + dataDirectory, e);
      }
      return new EmbeddedBroker(this);
    }

    private static int freePort(String host) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(host, 0));
        return socket.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException("no free port on " + host, e);
      }
    }
  }
}
