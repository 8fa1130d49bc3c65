package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.Address;
import dev.parley.transport.spi.BrokerAddresses;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Parley's RabbitMQ transport, on the AMQP 0-9-1 client ({@code com.rabbitmq:amqp-client}). How
 * channels, groups, partitions, replies, delays and dead letters map onto exchanges, queues and
 * properties is {@code docs/wire.md}.
 *
 * <pre>{@code
 * Transport rabbit = RabbitTransport.builder(URI.create("amqp://guest:guest@localhost:5672/orders"))
 *     .build();
 * Messaging messaging = Messaging.builder().transport(rabbit).build();
 * }</pre>
 *
 * <p>Two connections, one for publishing and one for consuming (so flow control on publishers never
 * stalls acks), both recovered automatically with their topology and consumers. A send completes on
 * the broker's publisher confirm, with up to {@link Builder#confirmWindow} sends unconfirmed at a
 * time; it fails on a nack, when a mandatory message is returned unroutable, when the connection
 * drops before the confirm, and after {@link Builder#sendTimeout}. A request ({@code
 * SendOptions.REQUEST}, confirmed by its reply) goes out on a channel without confirms and
 * completes once written. Consumers ack manually, one delivery at a time each, after the handler's
 * stage succeeds.
 */
public interface RabbitTransport extends Transport {

  /**
   * A builder connecting to {@code brokerUri}: {@code amqp://[user:password@]host[:port][/vhost]}
   * ({@code amqps://} or {@code rabbitmqs://} for TLS: the broker's certificate checked against the
   * JVM's trust store, or {@link Builder#sslContext}'s, and its host name; {@code rabbitmq://} is
   * read as {@code amqp://}). The nodes of a cluster may stand in it separated by commas, {@code
   * rabbitmq://user:password@rabbit-1:5672,rabbit-2:5672,rabbit-3:5672/orders}, as in {@code
   * PARLEY_BROKER_URL}: they are its {@link Builder#addresses addresses}.
   */
  static Builder builder(URI brokerUri) {
    return new Builder(brokerUri);
  }

  /** How many times a connection was lost and recovered since the transport was created. */
  long reconnects();

  /** Whether both connections are up right now. */
  boolean isConnected();

  /** Configures a {@link RabbitTransport}. Not thread-safe. */
  final class Builder {
    final URI brokerUri;
    Duration sendTimeout = Duration.ofSeconds(10);
    int confirmWindow = 1024;
    QueueType queueType = QueueType.QUORUM;
    int deliveryLimit = 20;
    int maxInboundMessageSize = 64 * 1024 * 1024;
    int partitions = 8;
    Duration memberHeartbeat = Duration.ofSeconds(1);
    Duration heartbeat = Duration.ofSeconds(10);
    Duration recoveryInterval = Duration.ofSeconds(1);
    int startupConnectAttempts = 20;
    Duration closeTimeout = Duration.ofSeconds(10);
    Duration rpcTimeout = Duration.ofSeconds(10);
    String connectionName = "parley";
    List<Address> addresses = List.of();
    javax.net.ssl.SSLContext sslContext;

    private Builder(URI brokerUri) {
      Objects.requireNonNull(brokerUri, "brokerUri");
      String scheme = brokerUri.getScheme();
      if ("rabbitmq".equals(scheme)) {
        brokerUri = URI.create("amqp" + brokerUri.toString().substring("rabbitmq".length()));
      } else if ("rabbitmqs".equals(scheme)) {
        brokerUri = URI.create("amqps" + brokerUri.toString().substring("rabbitmqs".length()));
      } else if (!"amqp".equals(scheme) && !"amqps".equals(scheme)) {
        throw new IllegalArgumentException(
            "brokerUri: "
                + dev.parley.transport.spi.Redaction.uri(brokerUri)
                + " (expected: amqp://, amqps:// or rabbitmq://)");
      }
      var split = BrokerAddresses.split(brokerUri);
      if (split.isPresent()) {
        addresses = toAddresses(split.get().hosts());
        brokerUri = split.get().firstHost();
      }
      this.brokerUri = brokerUri;
    }

    /** How long a send may wait for its confirm (and for a free window slot); default 10 s. */
    public Builder sendTimeout(Duration sendTimeout) {
      this.sendTimeout = Durations.positive(sendTimeout, "sendTimeout");
      return this;
    }

    /** Sends that may wait for their confirm at once; further sends wait; default 1024. */
    public Builder confirmWindow(int confirmWindow) {
      this.confirmWindow = atLeastOne(confirmWindow, "confirmWindow");
      return this;
    }

    /** The type of the queues Parley declares; default {@link QueueType#QUORUM}. */
    public Builder queueType(QueueType queueType) {
      this.queueType = Objects.requireNonNull(queueType, "queueType");
      return this;
    }

    /**
     * Deliveries after which a quorum queue dead-letters a message itself (a message that keeps
     * crashing its consumer); default 20. Parley's own retry tiers dead-letter far earlier.
     */
    public Builder deliveryLimit(int deliveryLimit) {
      this.deliveryLimit = atLeastOne(deliveryLimit, "deliveryLimit");
      return this;
    }

    /**
     * The largest message body a consumer reads, in bytes; default 64 MiB (amqp-client's own
     * default). RabbitMQ takes larger ones (up to its {@code max_message_size}, 128 MiB on 3.10): a
     * message over this is not read but rejected, so that RabbitMQ moves it whole to its queue's
     * dead-letter queue (on a dead-letter queue it is left in place, unacknowledged). Parley's
     * codecs refuse payloads far smaller (1 MiB by default) as bad input.
     */
    public Builder maxInboundMessageSize(int bytes) {
      this.maxInboundMessageSize = atLeastOne(bytes, "maxInboundMessageSize");
      return this;
    }

    /**
     * Partitions of a partitioned channel; default 8. Publishers and every member of a group must
     * use the same number: a publisher routes each event to partition {@code Partitions.of(key,
     * partitions)}, and a group records its count on its exchange (a different one is refused).
     */
    public Builder partitions(int partitions) {
      this.partitions = atLeastOne(partitions, "partitions");
      return this;
    }

    /**
     * How often members of a partitioned group announce themselves; a member silent for three
     * intervals is dropped and its partitions move; default 1 s.
     */
    public Builder memberHeartbeat(Duration memberHeartbeat) {
      this.memberHeartbeat = Durations.positive(memberHeartbeat, "memberHeartbeat");
      return this;
    }

    /**
     * AMQP heartbeat: a silent connection is declared dead after about twice this; default 10 s.
     */
    public Builder heartbeat(Duration heartbeat) {
      this.heartbeat = Durations.positive(heartbeat, "heartbeat");
      return this;
    }

    /**
     * Wait between recovery attempts of a lost connection, and between attempts to consume again
     * where a recovery did not restore a consumer; default 1 s. Every four of them (at least every
     * second) the transport also looks for running consumers whose channel is closed while the
     * connection is up (RabbitMQ closes a channel on a channel error, e.g. a delivery past its
     * {@code consumer_timeout}, and amqp-client does not recover it) or that RabbitMQ cancelled
     * (their queue deleted), and starts them again.
     */
    public Builder recoveryInterval(Duration recoveryInterval) {
      this.recoveryInterval = Durations.positive(recoveryInterval, "recoveryInterval");
      return this;
    }

    /** Connection attempts at start-up before {@link #build()} fails; default 20. */
    public Builder startupConnectAttempts(int attempts) {
      this.startupConnectAttempts = atLeastOne(attempts, "startupConnectAttempts");
      return this;
    }

    /**
     * How long close waits for handlers in progress; default 10 s. The broker then has up to {@link
     * #rpcTimeout} to take the acknowledgements and the goodbyes; a broker that has not answered by
     * then has the transport's connections cut (what was not acknowledged is delivered again), so a
     * close returns within about the sum of the two.
     */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = Durations.positive(closeTimeout, "closeTimeout");
      return this;
    }

    /**
     * How long an operation that waits for the broker's answer (declaring a queue, starting or
     * cancelling a consumer, closing a channel) may wait before it fails; default 10 s.
     * amqp-client's own default is 10 minutes: an answer that never comes (a consumer's cancel sent
     * just as its connection died was left waiting so) would stall a send that declares, a
     * rebalance or a close for that long.
     */
    public Builder rpcTimeout(Duration rpcTimeout) {
      this.rpcTimeout = Durations.positive(rpcTimeout, "rpcTimeout");
      return this;
    }

    /**
     * The nodes of a RabbitMQ cluster, {@code host[:port]} each ({@code [address]:port} for IPv6;
     * without a port, the scheme's: 5672, or 5671 for {@code amqps}): each connection — at start-up
     * and at every recovery after a lost one — tries them in a random order until one answers, so a
     * node's loss moves the transport to another node. They replace the broker URI's host and port;
     * its user, password, virtual host and TLS still apply. Default: the URI's host and port alone.
     * Declare the queues replicated (quorum queues, the {@linkplain #queueType default}): a classic
     * queue lives on one node and is gone while that node is.
     */
    public Builder addresses(String... hostAndPorts) {
      this.addresses = toAddresses(BrokerAddresses.parse(hostAndPorts));
      return this;
    }

    private static List<Address> toAddresses(List<BrokerAddresses.HostAndPort> hosts) {
      return hosts.stream().map(h -> new Address(h.host(), h.port())).toList();
    }

    /**
     * The TLS context of an {@code amqps://} connection (its trust managers decide which broker
     * certificates are trusted — a private CA's —, its key managers give a client certificate); the
     * JVM's default by default. Either way the broker's certificate must name the host connected to
     * (host name verification).
     */
    public Builder sslContext(javax.net.ssl.SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** Name shown for the connections in RabbitMQ's management tools; default {@code parley}. */
    public Builder connectionName(String connectionName) {
      this.connectionName = Objects.requireNonNull(connectionName, "connectionName");
      return this;
    }

    /**
     * Connects and returns the transport.
     *
     * @throws dev.parley.error.TransportException if the broker cannot be reached within the
     *     start-up attempts
     */
    public RabbitTransport build() {
      return new AmqpClientTransport(this);
    }

    private static int atLeastOne(int n, String name) {
      if (n < 1) {
        throw new IllegalArgumentException(name + ": " + n + " (expected: > 0)");
      }
      return n;
    }
  }
}
