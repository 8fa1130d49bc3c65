package dev.parley.transport.stomp;

import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.PartitionMembers;
import dev.parley.transport.spi.TransportSubscription;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A partitioned subscriber group on RabbitMQ's STOMP plugin, which can declare neither a
 * consistent-hash exchange nor a single-active-consumer queue: publishers route each event to
 * {@code <channel>.<partition>} on {@code amq.topic}; partition {@code p} is the durable queue
 * {@code <channel>.<group>.p<p>}; the members share the partitions out among themselves.
 *
 * <p>Each local consumer slot is a member with a random id. Members announce themselves ({@code
 * hello <id>}) every member heartbeat on {@code parley.members.<channel>.<group>} and say {@code
 * bye <id>} when they leave; one silent for three heartbeats is dropped. With the live ids sorted,
 * member {@code i} of {@code n} owns the partitions {@code p} with {@code p % n == i}. A member
 * that loses a partition finishes the message in hand and unsubscribes (the broker gives back the
 * rest, in order); a member that gains one waits two heartbeats before it subscribes, time for the
 * previous owner to let go. That wait is what keeps per-key order across a hand-over here (the
 * RabbitMQ transport has the broker enforce it with single-active-consumer queues instead).
 */
final class StompPartitions implements TransportSubscription {

  private static final Logger log = LoggerFactory.getLogger(StompPartitions.class);

  private final DefaultStompTransport transport;
  private final Dialect.RabbitMq dialect;
  private final Destination.GroupQueue group;
  private final int prefetch;
  private final DeliveryHandler handler;
  private final List<Slot> slots = new ArrayList<>();
  private final PartitionMembers table;
  private final List<String> slotIds = new ArrayList<>();
  private final long heartbeatNanos;
  private StompConsumer members;
  private ScheduledFuture<?> tick;
  private volatile boolean closed;

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
    this.heartbeatNanos = transport.memberHeartbeat().toNanos();
    this.table = new PartitionMembers(dialect.partitions(), transport.memberHeartbeat());
    for (int i = 0; i < concurrency; i++) {
      Slot slot = new Slot(UUID.randomUUID().toString());
      slots.add(slot);
      slotIds.add(slot.id);
    }
  }

  void start() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("destination", dialect.membersTopic(group));
    h.put("prefetch-count", "100");
    members =
        transport.newConsumer(
            h,
            group,
            (d, settlement) -> {
              table.heard(d.message().payload());
              settlement.ack();
            },
            100,
            false);
    members.attach(transport.awaitConnectedClient());
    announce(true);
    // Listen for a heartbeat and a half before taking anything, so as not to grab every partition
    // from members not heard of yet. A member that hears nobody takes every partition at once:
    // that declares and binds all the partition queues before subscribe() returns, so no event
    // published from then on is dropped for want of a queue.
    try {
      Thread.sleep(heartbeatNanos * 3 / 2 / 1_000_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    rebalance();
    long period = transport.memberHeartbeat().toMillis();
    tick =
        transport
            .timer()
            .scheduleWithFixedDelay(this::onTick, period, period, TimeUnit.MILLISECONDS);
  }

  private void onTick() {
    try {
      announce(true);
      rebalance();
    } catch (RuntimeException e) {
      log.warn("{}: rebalancing failed: {}", group.queueName(), e.toString());
    }
  }

  private void announce(boolean hello) {
    for (Slot s : slots) {
      transport.sendQuietly(
          Map.of("destination", dialect.membersTopic(group)),
          hello ? PartitionMembers.hello(s.id) : PartitionMembers.bye(s.id));
    }
  }

  private synchronized void rebalance() {
    long now = System.nanoTime();
    if (closed || !transport.isConnected()) {
      return;
    }
    Map<String, Set<Integer>> assignment = table.assign(slotIds);
    int alive = table.size();
    for (Slot s : slots) {
      Set<Integer> target = assignment.get(s.id);
      for (Integer p : List.copyOf(s.owned.keySet())) {
        if (!target.contains(p)) {
          log.debug("{}: member {} gives up partition {}", group.queueName(), s.id, p);
          transport.stopConsumer(s.owned.remove(p), transport.closeTimeout());
        }
      }
      s.wanted.keySet().retainAll(target);
      // A member that hears nobody else takes its partitions at once (see start()).
      boolean alone = alive == slots.size() && s.everOwned == 0;
      for (Integer p : target) {
        if (s.owned.containsKey(p)) {
          continue;
        }
        long since = s.wanted.computeIfAbsent(p, k -> now);
        if (!alone && now - since < heartbeatNanos * 2) {
          continue; // give the previous owner time to let go
        }
        StompConsumer c =
            transport.newConsumer(
                dialect.partitionHeaders(group, p, prefetch), group, handler, prefetch);
        try {
          c.attach(transport.connectedClient());
        } catch (RuntimeException e) {
          transport.stopConsumer(c, java.time.Duration.ZERO);
          log.debug("{}: cannot take partition {}: {}", group.queueName(), p, e.toString());
          continue;
        }
        s.owned.put(p, c);
        s.wanted.remove(p);
        s.everOwned++;
        log.debug("{}: member {} takes partition {}", group.queueName(), s.id, p);
      }
    }
  }

  /** Partitions each local member consumes now, by member id (for tests). */
  synchronized Map<String, Set<Integer>> assignment() {
    Map<String, Set<Integer>> out = new HashMap<>();
    for (Slot s : slots) {
      out.put(s.id, Set.copyOf(s.owned.keySet()));
    }
    return out;
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
      for (StompConsumer c : s.owned.values()) {
        transport.stopConsumer(c, transport.closeTimeout());
      }
      s.owned.clear();
    }
    announce(false);
    if (members != null) {
      transport.stopConsumer(members, transport.closeTimeout());
    }
    transport.forget(this);
  }

  private static final class Slot {
    final String id;
    final Map<Integer, StompConsumer> owned = new ConcurrentHashMap<>();
    final Map<Integer, Long> wanted = new HashMap<>();
    int everOwned;

    Slot(String id) {
      this.id = id;
    }
  }
}
