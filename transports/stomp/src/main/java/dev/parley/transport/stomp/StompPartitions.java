package dev.parley.transport.stomp;

import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.PartitionGroup;
import dev.parley.transport.spi.TransportSubscription;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partitioned subscriber group on RabbitMQ's STOMP plugin, which can declare neither a
 * consistent-hash exchange nor a single-active-consumer queue: publishers route each event to
 * {@code <channel>.<partition>} on {@code amq.topic}; partition {@code p} is the durable queue
 * {@code <channel>.<group>.p<p>}; the members share the partitions out among themselves through a
 * {@link PartitionGroup} (the rebalancing the RabbitMQ transport shares), announcing themselves on
 * {@code parley.members.<channel>.<group>}.
 *
 * <p>A member that loses a partition finishes the messages in hand and unsubscribes (the broker
 * gives back the rest, in order), announcing the partition as held until it has; a member that
 * gains one subscribes after two heartbeats and once no other member announces it as held. That is
 * what keeps per-key order across a hand-over here (the RabbitMQ transport has the broker enforce
 * it with single-active-consumer queues instead).
 */
final class StompPartitions implements TransportSubscription, PartitionGroup.Broker {

  private static final Logger log = LoggerFactory.getLogger(StompPartitions.class);

  private final DefaultStompTransport transport;
  private final Dialect.RabbitMq dialect;
  private final Destination.GroupQueue group;
  private final int prefetch;
  private final DeliveryHandler handler;
  private final PartitionGroup members;
  private StompConsumer announcements;

  StompPartitions(
      DefaultStompTransport transport,
      Dialect.RabbitMq dialect,
      Destination.GroupQueue group,
      int concurrency,
      int prefetch,
      DeliveryHandler handler) {
    this.transport = transport;
    this.dialect = dialect;
    this.group = group;
    this.prefetch = prefetch;
    this.handler = handler;
    Duration heartbeat = transport.memberHeartbeat();
    this.members =
        new PartitionGroup(
            group.queueName(),
            dialect.partitions(),
            concurrency,
            heartbeat,
            heartbeat.multipliedBy(2),
            false, // a member giving partitions back may drop its connection: see PartitionGroup
            this,
            transport.timer());
  }

  void start() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("destination", dialect.membersTopic(group));
    h.put("prefetch-count", "100");
    announcements =
        transport.newConsumer(
            h,
            group,
            (d, settlement) -> {
              members.heard(Payloads.shared(d.message()));
              settlement.ack();
            },
            100,
            false,
            true);
    announcements.attach(transport.awaitConnectedClient());
    // Listen for three heartbeats (as long as the others wait before they count a silent member
    // gone) before taking anything, so as not to grab every partition from members not heard of
    // yet: a member giving partitions back may be silent for a reconnect (it drops its connection
    // to give back messages that crossed its UNSUBSCRIBE). A member that hears nobody takes every
    // partition at once: that declares and binds all the partition queues before subscribe()
    // returns, so no event published from then on is dropped for want of a queue.
    members.start(transport.memberHeartbeat().multipliedBy(3));
  }

  @Override
  public void announce(byte[] announcement) {
    transport.sendQuietly(Map.of("destination", dialect.membersTopic(group)), announcement);
  }

  @Override
  public boolean ready() {
    return transport.isConnected();
  }

  /**
   * RabbitMQ gives up on a silent STOMP connection, and returns its unacknowledged messages, at the
   * third of its checks for the client's bytes that finds none: its STOMP plugin checks every whole
   * second of the heart-beat the client offers, at least one (it answers {@code heart-beat:1000,
   * 1000} to an offer of 250 ms), and the first check after the last byte still sees it, so up to
   * three check intervals after the last byte (RabbitMQ 3.10's rabbit_heartbeat receiver; measured
   * 5.1 s with 2 s heart-beats, 2.1 s with 250 ms, StompSilentMemberIT). The last byte may have
   * reached the broker up to a member heartbeat after the member was last heard (its next
   * announcement was due then). So: a member heartbeat and four check intervals (one for the
   * broker's own delays) from when the member was last heard. A member that dies is waited for as
   * long: the others cannot tell a closed connection from a silent one.
   */
  @Override
  public Duration silentMemberHold() {
    Duration check = transport.heartbeat();
    if (check.compareTo(Duration.ofSeconds(1)) < 0) {
      check = Duration.ofSeconds(1);
    }
    return transport.memberHeartbeat().plus(check.multipliedBy(4));
  }

  /** Each reconnect also re-subscribes the announcements: what was sent meanwhile was missed. */
  @Override
  public long connectionEpoch() {
    return transport.reconnects();
  }

  /** Handlers in hand, then the UNSUBSCRIBE's receipt. */
  @Override
  public Duration stopTimeout() {
    return transport.closeTimeout().plus(transport.sendTimeout());
  }

  /**
   * Partitions whose SUBSCRIBE the broker refused (a permission, or a partition queue that exists
   * with other arguments), until when ({@link System#nanoTime}) none is written again: the group
   * tries a partition it cannot take again every heartbeat, and each refusal closes the connection
   * under every subscription on it.
   */
  private final Map<Integer, Long> refusedUntil = new ConcurrentHashMap<>();

  @Override
  public AutoCloseable consume(String member, int partition) {
    Long until = refusedUntil.get(partition);
    if (until != null && System.nanoTime() - until < 0) {
      throw new IllegalStateException(
          "partition "
              + partition
              + " was refused by the broker less than "
              + DefaultStompTransport.REFUSAL_PAUSE.toSeconds()
              + " s ago");
    }
    StompConsumer c =
        transport.newConsumer(
            dialect.partitionHeaders(group, partition, prefetch),
            group,
            handler,
            prefetch,
            true,
            false);
    try {
      c.attach(transport.connectedClient());
    } catch (RuntimeException e) {
      transport.stopConsumer(c, Duration.ZERO);
      if (e instanceof TransportException t && DefaultStompTransport.refusesTheDestination(t)) {
        refusedUntil.put(
            partition, System.nanoTime() + DefaultStompTransport.REFUSAL_PAUSE.toNanos());
        log.error(
            "{}: the broker refuses partition {} (tried again in {} s; the others go on): {}",
            group.queueName(),
            partition,
            DefaultStompTransport.REFUSAL_PAUSE.toSeconds(),
            e.getMessage());
      }
      throw e;
    }
    return new PartitionConsumer(c);
  }

  /**
   * A reconnect does not subscribe a partition consumer again (but after the transport's own quick
   * drop to give back messages): one that ended with the old connection is given up by the group
   * and taken again once no other member holds the partition.
   */
  @Override
  public boolean consumesAfterReconnect(AutoCloseable consumer) {
    return ((PartitionConsumer) consumer).consumer.attachedTo() == transport.currentClient();
  }

  /** One partition's consumer, as the group holds it. */
  private final class PartitionConsumer implements AutoCloseable {
    final StompConsumer consumer;

    PartitionConsumer(StompConsumer consumer) {
      this.consumer = consumer;
    }

    @Override
    public void close() {
      transport.stopConsumer(consumer, transport.closeTimeout());
    }
  }

  @Override
  public void close() {
    members.close();
    if (announcements != null) {
      transport.stopConsumer(announcements, transport.closeTimeout());
    }
    transport.forget(this);
  }
}
