package dev.parley.transport.stomp;

import dev.parley.transport.spi.BrokerAddresses;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The STOMP 1.2 transport, for ActiveMQ Artemis and RabbitMQ's STOMP plugin (the broker is
 * recognised from its CONNECTED frame). A send completes on the broker's RECEIPT (a request, which
 * its reply confirms, has none and completes once written); consumers use {@code client-individual}
 * acknowledgements; heart-beats both ways; the connection is re-made and subscriptions restored
 * after a loss.
 *
 * <pre>{@code
 * Transport t = StompTransport.builder(URI.create("stomp://guest:guest@localhost:61613/")).build();
 * }</pre>
 */
public interface StompTransport extends Transport {

  /**
   * A builder connecting to {@code stomp://[login:passcode@]host[:port][/virtual-host]} (port 61613
   * by default; the path, if any, is the CONNECT frame's {@code host}, e.g. a RabbitMQ vhost), or
   * over TLS to {@code stomps://…} (port 61614 by default): the broker's certificate is verified
   * against the JVM's trust store (or {@link Builder#sslContext}'s) and its host name, and there is
   * no fallback to plaintext. Several nodes may stand in it separated by commas, {@code
   * stomp://guest:guest@node-1:61613,node-2:61613/}: they are its {@link Builder#addresses
   * addresses}.
   */
  static Builder builder(URI brokerUri) {
    return new Builder(brokerUri);
  }

  /** How many times the connection was lost and made again since the transport was created. */
  long reconnects();

  /** Whether the connection is up right now. */
  boolean isConnected();

  /** {@code artemis} or {@code rabbitmq}: how destinations are named on the connected broker. */
  String dialect();

  /** The type of the durable queues declared on RabbitMQ ({@link Builder#queueType}). */
  enum QueueType {
    /** A queue on one node: RabbitMQ's STOMP plugin's own choice. */
    CLASSIC,
    /** A queue replicated on the nodes of a cluster ({@code x-queue-type: quorum}). */
    QUORUM
  }

  /** Configures a {@link StompTransport}. Not thread-safe. */
  final class Builder {
    final URI brokerUri;
    Duration sendTimeout = Duration.ofSeconds(10);
    Duration heartbeat = Duration.ofSeconds(10);
    Duration reconnectInterval = Duration.ofSeconds(1);
    Duration connectTimeout = Duration.ofSeconds(10);
    Duration closeTimeout = Duration.ofSeconds(10);
    Duration memberHeartbeat = Duration.ofSeconds(1);
    int partitions = 8;
    int startupConnectAttempts = 20;
    int maxFrameBytes = 16 * 1024 * 1024;
    javax.net.ssl.SSLContext sslContext;
    List<BrokerAddresses.HostAndPort> addresses = List.of();
    QueueType queueType = QueueType.CLASSIC;

    private Builder(URI brokerUri) {
      Objects.requireNonNull(brokerUri, "brokerUri");
      var split = BrokerAddresses.split(brokerUri);
      if (split.isPresent()) {
        addresses = split.get().hosts();
        brokerUri = split.get().firstHost();
      }
      if (!("stomp".equals(brokerUri.getScheme()) || "stomps".equals(brokerUri.getScheme()))
          || brokerUri.getHost() == null) {
        throw new IllegalArgumentException(
            "brokerUri: "
                + dev.parley.transport.spi.Redaction.uri(brokerUri)
                + " (expected: stomp[s]://[login:passcode@]host[:port][/vhost])");
      }
      this.brokerUri = brokerUri;
    }

    /**
     * The nodes to connect to, {@code host[:port]} each ({@code [address]:port} for IPv6; without a
     * port, the scheme's: 61613, or 61614 for {@code stomps}), in place of the broker URI's host
     * and port (its login, passcode, virtual host and TLS still apply): a RabbitMQ cluster's nodes
     * with the STOMP plugin, or an Artemis live server and its backups. Each connection — at
     * start-up, at every reconnect, and the connection that copies large messages — tries them in
     * turn, starting from the one that answered last, until one accepts; so a node's loss moves the
     * transport to the next. The URI may name them too, separated by commas: {@code
     * stomp://guest:guest@node-1:61613,node-2,node-3/}. Default: the URI's host and port alone.
     *
     * <p>Where the broker keeps a queue on one node (a RabbitMQ classic queue, as the STOMP plugin
     * declares by default), its messages wait there while that node is down; the transport's sends
     * and other subscriptions go on through another node.
     */
    public Builder addresses(String... hostAndPorts) {
      this.addresses = BrokerAddresses.parse(hostAndPorts);
      return this;
    }

    /**
     * The TLS context of a {@code stomps://} connection (its trust managers decide which broker
     * certificates are trusted, its key managers give a client certificate); the JVM's default by
     * default.
     */
    public Builder sslContext(javax.net.ssl.SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** How long a send may wait for its receipt; default 10 s. */
    public Builder sendTimeout(Duration sendTimeout) {
      this.sendTimeout = Durations.positive(sendTimeout, "sendTimeout");
      return this;
    }

    /**
     * Heart-beat offered both ways: the client writes at least this often, and a broker silent for
     * about twice the agreed interval is taken for dead; default 10 s.
     */
    public Builder heartbeat(Duration heartbeat) {
      this.heartbeat = Durations.positive(heartbeat, "heartbeat");
      return this;
    }

    /** Wait between attempts to make a lost connection again; default 1 s. */
    public Builder reconnectInterval(Duration reconnectInterval) {
      this.reconnectInterval = Durations.positive(reconnectInterval, "reconnectInterval");
      return this;
    }

    /** Bound on the TCP connect and the CONNECT/CONNECTED handshake; default 10 s. */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Durations.positive(connectTimeout, "connectTimeout");
      return this;
    }

    /** How long close waits for handlers in progress; default 10 s. */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = Durations.positive(closeTimeout, "closeTimeout");
      return this;
    }

    /**
     * RabbitMQ only: how often members of a partitioned group announce themselves; one silent for
     * three intervals is dropped and its partitions move; default 1 s.
     */
    public Builder memberHeartbeat(Duration memberHeartbeat) {
      this.memberHeartbeat = Durations.positive(memberHeartbeat, "memberHeartbeat");
      return this;
    }

    /**
     * RabbitMQ only: the type of the durable queues the STOMP plugin declares for this transport —
     * command queues ({@code /queue/…}), consumer groups' queues and their partitions, delay and
     * dead-letter queues; default {@link QueueType#CLASSIC}, what the plugin declares by itself.
     * {@link QueueType#QUORUM} on a cluster: a quorum queue is replicated on the cluster's nodes
     * and survives the loss of a minority of them, where a classic queue lives on one node and is
     * gone while that node is. Callers' reply queues stay temporary classic queues. Every client of
     * a queue must declare it alike: a queue that exists as the other type is refused by RabbitMQ
     * ({@code precondition_failed}), and the subscription with it.
     */
    public Builder queueType(QueueType queueType) {
      this.queueType = Objects.requireNonNull(queueType, "queueType");
      return this;
    }

    /**
     * RabbitMQ only: partitions of a partitioned channel; default 8. Publishers and every member
     * must agree (the partition is part of the routing key).
     */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions: " + partitions + " (expected: > 0)");
      }
      this.partitions = partitions;
      return this;
    }

    /** Connection attempts at start-up before {@link #build()} fails; default 20. */
    public Builder startupConnectAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException(
            "startupConnectAttempts: " + attempts + " (expected: > 0)");
      }
      this.startupConnectAttempts = attempts;
      return this;
    }

    /** Largest frame accepted from the broker; a bigger one is a protocol error; default 16 MiB. */
    public Builder maxFrameBytes(int maxFrameBytes) {
      if (maxFrameBytes < 1024) {
        throw new IllegalArgumentException(
            "maxFrameBytes: " + maxFrameBytes + " (expected: >= 1024)");
      }
      this.maxFrameBytes = maxFrameBytes;
      return this;
    }

    /**
     * Connects and returns the transport.
     *
     * @throws dev.parley.error.TransportException if the broker cannot be reached within the
     *     start-up attempts
     */
    public StompTransport build() {
      return new DefaultStompTransport(this);
    }
  }
}
