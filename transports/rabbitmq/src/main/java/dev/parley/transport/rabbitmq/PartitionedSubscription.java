package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.parley.error.TransportException;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.PartitionMembers;
import dev.parley.transport.spi.TransportSubscription;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription's share of a partitioned destination. Each of its {@code concurrency} slots is a
 * group member; members find each other through a fanout exchange ({@code <queue>.members}) on
 * which every member announces itself every heartbeat interval and says goodbye when it closes.
 * Every member computes the same assignment from the same sorted member list (partition {@code p}
 * belongs to member {@code p mod n}) and consumes exactly its partitions; a member that stops
 * announcing is dropped after three intervals and its partitions move.
 *
 * <p>Partition queues are single-active-consumer queues, so while two members briefly disagree
 * about an assignment the broker still lets only one of them consume a partition; the member giving
 * a partition up finishes the message in hand and closes its channel, which returns the rest to the
 * queue in order before the next owner becomes active.
 */
final class PartitionedSubscription implements TransportSubscription {

  private static final Logger log = LoggerFactory.getLogger(PartitionedSubscription.class);

  private final Connection connection;
  private final String queue;
  private final Destination source;
  private final int prefetch;
  private final Duration heartbeat;
  private final Duration closeTimeout;
  private final DeliveryHandler handler;
  private final List<Slot> slots = new ArrayList<>();
  private final PartitionMembers members;
  private final List<String> slotIds = new ArrayList<>();
  private final ScheduledExecutorService timer;
  private final String exchange;
  private Channel control;
  private ScheduledFuture<?> tick;
  private volatile boolean closed;

  PartitionedSubscription(
      Connection connection,
      String queue,
      Destination source,
      int partitions,
      int concurrency,
      int prefetch,
      Duration heartbeat,
      Duration closeTimeout,
      ScheduledExecutorService timer,
      DeliveryHandler handler) {
    this.connection = connection;
    this.queue = queue;
    this.source = source;
    this.prefetch = prefetch;
    this.heartbeat = heartbeat;
    this.closeTimeout = closeTimeout;
    this.timer = timer;
    this.handler = handler;
    this.exchange = queue + ".members";
    this.members = new PartitionMembers(partitions, heartbeat);
    for (int i = 0; i < concurrency; i++) {
      Slot slot = new Slot(UUID.randomUUID().toString());
      slots.add(slot);
      slotIds.add(slot.id);
    }
  }

  void start() {
    try {
      control = connection.createChannel();
      control.exchangeDeclare(exchange, Topology.FANOUT, false, true, null);
      String inbox = control.queueDeclare("", false, true, true, null).getQueue();
      control.queueBind(inbox, exchange, "");
      control.basicConsume(inbox, true, new Listener(control));
    } catch (IOException | RuntimeException e) {
      throw new TransportException(
          "parley.transport.subscribe",
          "cannot join the members of " + queue + ": " + e.getMessage(),
          e);
    }
    announce(true);
    rebalance();
    tick =
        timer.scheduleWithFixedDelay(
            this::onTick, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Partitions each local member consumes now, by member id (for tests and metrics). */
  Map<String, Set<Integer>> assignment() {
    Map<String, Set<Integer>> owned = new HashMap<>();
    for (Slot s : slots) {
      owned.put(s.id, Set.copyOf(s.consumers.keySet()));
    }
    return owned;
  }

  /**
   * The tag a member consumes a partition under, so {@code rabbitmqctl list_consumers} shows who
   * owns which partition: {@code parley.member.<member id>.p<partition>}.
   */
  static String consumerTag(String member, int partition) {
    return "parley.member." + member + ".p" + partition;
  }

  private void onTick() {
    try {
      announce(true);
      rebalance();
    } catch (RuntimeException e) {
      log.warn("{}: rebalancing failed: {}", queue, e.toString());
    }
  }

  private void announce(boolean hello) {
    Channel ch = control;
    if (ch == null || !ch.isOpen()) {
      return;
    }
    for (Slot s : slots) {
      try {
        ch.basicPublish(
            exchange, "", null, hello ? PartitionMembers.hello(s.id) : PartitionMembers.bye(s.id));
      } catch (IOException | RuntimeException e) {
        log.debug("{}: announcing {} failed: {}", queue, s.id, e.toString());
      }
    }
  }

  private synchronized void rebalance() {
    if (closed) {
      return;
    }
    Map<String, Set<Integer>> assignment = members.assign(slotIds);
    for (Slot s : slots) {
      Set<Integer> target = assignment.get(s.id);
      for (Integer p : List.copyOf(s.consumers.keySet())) {
        if (!target.contains(p)) {
          log.debug("{}: member {} gives up partition {}", queue, s.id, p);
          s.consumers.remove(p).stop(closeTimeout);
        }
      }
      for (Integer p : target) {
        if (!s.consumers.containsKey(p)) {
          QueueConsumer c =
              new QueueConsumer(
                  connection,
                  Topology.partitionQueue(queue, p),
                  source,
                  prefetch,
                  handler,
                  consumerTag(s.id, p),
                  true);
          c.start();
          s.consumers.put(p, c);
          log.debug("{}: member {} takes partition {}", queue, s.id, p);
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (tick != null) {
      tick.cancel(false);
    }
    for (Slot s : slots) {
      for (QueueConsumer c : s.consumers.values()) {
        c.stop(closeTimeout);
      }
      s.consumers.clear();
    }
    announce(false);
    try {
      if (control != null) {
        control.close(); // also when down: it leaves the client's recovery that way
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      log.debug("{}: closing the members channel failed: {}", queue, e.toString());
    }
  }

  private final class Listener extends DefaultConsumer {
    Listener(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      if (members.heard(body) && !closed) {
        // React to a join or leave at once rather than on the next tick.
        timer.execute(PartitionedSubscription.this::rebalance);
      }
    }
  }

  private static final class Slot {
    final String id;
    final Map<Integer, QueueConsumer> consumers = new ConcurrentHashMap<>();

    Slot(String id) {
      this.id = id;
    }
  }
}
