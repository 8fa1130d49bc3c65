package dev.parley.transport.amqp;

import dev.parley.transport.spi.BrokerAddresses;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Parley's AMQP 1.0 transport, on Apache Qpid JMS: embedded Artemis, a standalone Artemis, or
 * another AMQP 1.0 broker. How channels, groups, partitions, replies and dead letters map onto
 * addresses and message properties is {@code docs/wire.md}.
 *
 * <pre>{@code
 * Transport amqp = AmqpTransport.builder(URI.create("amqp://broker:5672")).build();
 * Messaging messaging = Messaging.builder().transport(amqp).build();
 * }</pre>
 *
 * <p>One connection carries every producer and consumer; when it drops, it is re-established with
 * backoff and every subscription restored. A send completes when the broker has settled it as
 * accepted (for Artemis: after its journal sync) and fails with a {@link
 * dev.parley.error.TransportException} after {@link Builder#sendTimeout} if it has not, so a send
 * never hangs while the broker is down.
 */
public interface AmqpTransport extends Transport {

  /**
   * A builder connecting to {@code brokerUri} ({@code amqp://[user:password@]host:port}; several
   * brokers separated by commas, {@code amqp://app:pw@artemis-1:5672,artemis-2:5672}, are its
   * {@link Builder#addresses addresses}).
   */
  static Builder builder(URI brokerUri) {
    return new Builder(brokerUri);
  }

  /** How many times the connection was lost and restored since the transport was created. */
  long reconnects();

  /** Whether the connection is up right now. */
  boolean isConnected();

  /** Configures an {@link AmqpTransport}. Not thread-safe. */
  final class Builder {
    final URI brokerUri;
    Duration sendTimeout = Duration.ofSeconds(10);
    Duration reconnectDelay = Duration.ofMillis(100);
    Duration maxReconnectDelay = Duration.ofSeconds(1);
    Duration heartbeat = Duration.ofSeconds(10);
    int startupConnectAttempts = 20;
    int maxPendingSends = 10_000;
    Duration closeTimeout = Duration.ofSeconds(10);
    Duration requestTimeout = Duration.ofSeconds(10);
    boolean answerTemporaryQueues;
    AutoCloseable onClose;
    List<BrokerAddresses.HostAndPort> addresses = List.of();
    javax.net.ssl.SSLContext sslContext;

    private Builder(URI brokerUri) {
      Objects.requireNonNull(brokerUri, "brokerUri");
      String scheme = brokerUri.getScheme();
      if (!"amqp".equals(scheme) && !"amqps".equals(scheme)) {
        throw new IllegalArgumentException(
            "brokerUri: "
                + dev.parley.transport.spi.Redaction.uri(brokerUri)
                + " (expected: amqp:// or amqps://)");
      }
      var split = BrokerAddresses.split(brokerUri);
      if (split.isPresent()) {
        addresses = split.get().hosts();
        brokerUri = split.get().firstHost();
      }
      if (brokerUri.getHost() == null) {
        throw new IllegalArgumentException(
            "brokerUri: "
                + dev.parley.transport.spi.Redaction.uri(brokerUri)
                + " (expected: amqp[s]://[user:password@]host[:port])");
      }
      this.brokerUri = brokerUri;
    }

    /**
     * The brokers to connect to, {@code host[:port]} each ({@code [address]:port} for IPv6; without
     * a port, the scheme's: 5672, or 5671 for {@code amqps}), in place of the broker URI's host and
     * port (its user, password and TLS still apply): an Artemis live server and its backups, or the
     * nodes of a cluster. The connection — at start-up and after every loss — tries them in turn
     * until one accepts (Qpid JMS's failover list), so a broker's loss moves the transport to the
     * next and every subscription is restored there. The URI may name them too, separated by
     * commas: {@code amqp://app:pw@artemis-1:5672,artemis-2:5672}. Default: the URI's host and port
     * alone. A broker that names its backups when the connection opens (Artemis with HA configured)
     * adds them to the list.
     */
    public Builder addresses(String... hostAndPorts) {
      this.addresses = BrokerAddresses.parse(hostAndPorts);
      return this;
    }

    /**
     * The TLS context of an {@code amqps://} connection (its trust managers decide which broker
     * certificates are trusted — a private CA's —, its key managers give a client certificate); the
     * JVM's default by default. Either way the broker's certificate must name the host connected to
     * (host name verification), and a certificate refused at start-up fails {@link #build()} at
     * once with {@code parley.amqp.tls_failed}, where a broker that does not answer is tried again.
     *
     * @throws IllegalArgumentException for an {@code amqp://} URI, which speaks no TLS
     */
    public Builder sslContext(javax.net.ssl.SSLContext sslContext) {
      Objects.requireNonNull(sslContext, "sslContext");
      if (!"amqps".equals(brokerUri.getScheme())) {
        throw new IllegalArgumentException(
            "sslContext: for an amqps:// broker URI only (this one speaks no TLS: "
                + dev.parley.transport.spi.Redaction.uri(brokerUri)
                + ")");
      }
      this.sslContext = sslContext;
      return this;
    }

    /** How long a send may wait for the broker's settlement before failing; default 10 s. */
    public Builder sendTimeout(Duration sendTimeout) {
      this.sendTimeout = Durations.positive(sendTimeout, "sendTimeout");
      return this;
    }

    /** First wait before reconnecting; doubled up to {@link #maxReconnectDelay}; default 100 ms. */
    public Builder reconnectDelay(Duration reconnectDelay) {
      this.reconnectDelay = Durations.positive(reconnectDelay, "reconnectDelay");
      return this;
    }

    /** Longest wait between reconnect attempts; default 1 s. */
    public Builder maxReconnectDelay(Duration maxReconnectDelay) {
      this.maxReconnectDelay = Durations.positive(maxReconnectDelay, "maxReconnectDelay");
      return this;
    }

    /** AMQP idle timeout: a silent connection is declared dead after this; default 10 s. */
    public Builder heartbeat(Duration heartbeat) {
      this.heartbeat = Durations.positive(heartbeat, "heartbeat");
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

    /**
     * How many sends may wait for the broker's outcome at once (queued for the connection or
     * written and not yet settled); default 10,000. A send beyond it fails at once with {@code
     * parley.transport.backlog_full} instead of queueing: while the broker is unreachable or
     * stalls, memory stays bounded however fast the application publishes (a send cannot block the
     * caller, which may be a client library's completion thread).
     */
    public Builder maxPendingSends(int maxPendingSends) {
      if (maxPendingSends < 1) {
        throw new IllegalArgumentException(
            "maxPendingSends: " + maxPendingSends + " (expected: > 0)");
      }
      this.maxPendingSends = maxPendingSends;
      return this;
    }

    /** How long close waits for handlers in progress; default 10 s. */
    public Builder closeTimeout(Duration closeTimeout) {
      this.closeTimeout = Durations.positive(closeTimeout, "closeTimeout");
      return this;
    }

    /**
     * How long an operation that waits for the broker's answer (opening a session, a consumer or a
     * temporary queue) may wait before it fails with {@code parley.transport.unavailable}; default
     * 10 s. Qpid JMS's own default ({@code jms.requestTimeout}) is to wait without limit: on a
     * silent link a subscribe would hang for as long as the link stays silent.
     */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = Durations.positive(requestTimeout, "requestTimeout");
      return this;
    }

    /**
     * Whether a responder answers requests whose reply address is one of Artemis's temporary queues
     * — JMS's own request/reply: a {@code TemporaryQueue} as JMSReplyTo ({@code QueueRequestor},
     * Spring's {@code JmsTemplate.sendAndReceive}, Camel's InOut), whose name the broker makes up
     * (a version-1 UUID such as {@code 8d8bf312-f121-11f1-9aac-02fc00000001}). Default {@code
     * false}: unlike RabbitMQ's {@code amq.gen-} names, Artemis does not keep those names to
     * itself, so a queue another service declared under such a name could be made the target of a
     * reply (RELIABILITY.md S6; a request naming any other queue is dead-lettered with {@code
     * parley.reply_to.not_allowed}). Turn it on where JMS clients call this service and no queue of
     * yours is named like one.
     *
     * <p>A reply to a temporary queue that is gone — its requester gave up and deleted it, as
     * {@code JmsTemplate.sendAndReceive} does when its receive timeout passes — would not be
     * dropped on Artemis: a broker that auto-creates queues (its default, and the embedded
     * broker's) makes a durable queue of that name to hold it. So give such requests a time-to-live
     * no longer than the caller's timeout ({@code JmsTemplate}: {@code explicitQosEnabled} and
     * {@code timeToLive}): it is the request's deadline, after which nothing handles it and no
     * reply goes to a temporary queue.
     */
    public Builder answerTemporaryQueues(boolean answer) {
      this.answerTemporaryQueues = answer;
      return this;
    }

    /** Something to close after the transport closes (the local broker claim). */
    Builder onClose(AutoCloseable onClose) {
      this.onClose = onClose;
      return this;
    }

    /**
     * Connects and returns the transport.
     *
     * @throws dev.parley.error.TransportException if the broker cannot be reached within the
     *     start-up attempts
     */
    public AmqpTransport build() {
      return new QpidAmqpTransport(this);
    }
  }
}
