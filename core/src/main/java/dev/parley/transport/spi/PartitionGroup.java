package dev.parley.transport.spi;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription's share of a partitioned group, for transports whose broker does not assign
 * partitions itself. It is the single implementation of member rebalancing behind the RabbitMQ and
 * the STOMP transports: each of the subscription's {@code members} local slots is a group member
 * with a random id; the members announce themselves through the broker (the {@link
 * PartitionMembers} protocol), every member computes the same assignment, and each slot consumes
 * exactly its partitions through the transport's {@link Broker}.
 *
 * <p>A rebalance runs every heartbeat and at once when a member joins or leaves. A slot that loses
 * a partition stops its consumer (the transport finishes what is in hand and gives back the rest,
 * in order) before anything else; a slot that gains one takes it after {@code handover}: zero where
 * the broker itself lets only one consumer at a time read a partition (RabbitMQ's
 * single-active-consumer queues), two heartbeats where the members keep two owners apart themselves
 * (STOMP), except for a member that hears nobody else and never owned anything, which takes its
 * partitions at once. With a hand-over wait, each member also announces what it holds (giving up
 * included) every heartbeat, and a slot takes a partition only once no other live member's latest
 * announcement names it: a previous owner whose handlers take longer than the wait keeps the
 * partition until it has let go (or is silent for three heartbeats), not only for the wait. A
 * member announces itself every heartbeat from the moment it starts (while it listens too), and
 * after its transport connected again ({@link Broker#connectionEpoch}) it takes nothing for two
 * heartbeats, not even a member that heard nobody: announcements sent meanwhile were missed, and a
 * stale view can assign it a partition that a member it has not heard of takes too. It also gives
 * up the partitions whose consumers ended with the old connection ({@link
 * Broker#consumesAfterReconnect}) and takes them again like any other: the others may have dropped
 * it and taken them while it was cut off.
 *
 * <p>Rebalances run on the transport's timer, one after the other (a transport may rely on that:
 * the STOMP transport also restores its subscriptions there after a reconnect), never on a client
 * library's thread. Stopping a consumer waits for what it has in hand, up to the transport's close
 * timeout, so a rebalance may take that long; announcements therefore run on a thread of the
 * group's own, every heartbeat whatever a rebalance is waiting for. (On the timer, a member whose
 * rebalance waited longer than three heartbeats fell silent: the others dropped it and took its
 * partitions while it still held them, then had to give them back when it spoke again.) Consumers
 * are started and stopped outside the group's monitor: a stop that never returns (seen on RabbitMQ,
 * the client library waiting for good on a channel whose connection had died) holds up neither
 * {@link #assignment()} nor {@link #close()}, which waits for it only up to the broker's {@link
 * Broker#stopTimeout}.
 */
public final class PartitionGroup implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PartitionGroup.class);

  /**
   * What a transport does for the group: announcements on the group's own thread, consumers started
   * and stopped on the transport's timer.
   */
  public interface Broker {

    /**
     * Sends a member announcement ({@link PartitionMembers#hello}/{@link PartitionMembers#bye}).
     */
    void announce(byte[] announcement);

    /**
     * Starts consuming {@code partition} for member {@code member}.
     *
     * @throws RuntimeException when the partition cannot be taken now (it is tried again next tick)
     */
    AutoCloseable consume(String member, int partition);

    /** Whether consumers can be opened now (e.g. connected); a rebalance waits otherwise. */
    default boolean ready() {
      return true;
    }

    /**
     * A number that changes whenever the transport replaced its connection, and with it the
     * subscription that receives the announcements: those sent meanwhile were missed, so the
     * group's view of the members may be stale until it has listened again. Constant (0) where that
     * cannot happen or does not matter.
     */
    default long connectionEpoch() {
      return 0;
    }

    /**
     * How long stopping one consumer takes at most when the broker answers (its handlers in hand
     * and the broker's goodbyes): {@link #close()} waits that long for a rebalance that is stopping
     * one, then goes on without it.
     */
    default Duration stopTimeout() {
      return Duration.ofSeconds(30);
    }

    /**
     * Whether {@code consumer}, which {@link #consume} returned, still consumes its partition after
     * the transport replaced its connection ({@link #connectionEpoch} changed). One that ended with
     * the old connection is given up and its partition taken again as any other — after the two
     * heartbeats of listening, the hand-over wait and once no other member holds it — because a
     * member cut off for three heartbeats or more was dropped by the others, who may have taken its
     * partitions meanwhile: consuming them again with the connection would give a partition two
     * consumers (seen in full-size M1 runs on STOMP: keys out of order). By default every consumer
     * goes on (the transport restores them, and the broker keeps two owners apart where it can:
     * RabbitMQ's single-active-consumer queues).
     */
    default boolean consumesAfterReconnect(AutoCloseable consumer) {
      return true;
    }

    /**
     * How long after a member was last heard the broker may still hold the messages it had not
     * acknowledged: a member cut off without its connection closing (a network partition) keeps its
     * subscriptions, and their messages, until the broker gives up on the connection (missed
     * heart-beats). With a hand-over wait, a partition such a member last said it holds is taken
     * only that long after it was last heard, so that its messages are back in the queue before the
     * next owner reads the key's later ones. Zero by default (where the broker keeps two consumers
     * of a partition apart itself).
     */
    default Duration silentMemberHold() {
      return Duration.ZERO;
    }
  }

  private final String name;
  private final PartitionMembers table;
  private final Duration heartbeat;
  private final long handoverNanos;
  private final boolean rebalanceOnChange;
  private final Broker broker;
  private final ScheduledExecutorService timer;
  private final List<Slot> slots = new ArrayList<>();
  private final List<String> slotIds = new ArrayList<>();
  private final AtomicBoolean rebalanceDue = new AtomicBoolean();

  /**
   * Held by the rebalance running (one at a time). Consumers are started and stopped under it, not
   * under the group's monitor: a stop that never ends (a broker call the client library waits on
   * for good) must not hold up the announcements, {@link #assignment()} or {@link #close()}.
   */
  private final ReentrantLock rebalancing = new ReentrantLock();

  /** Stops of consumers given up, not begun yet: run by the rebalance, or by close. */
  private final Queue<Runnable> releases = new ConcurrentLinkedQueue<>();

  private ScheduledFuture<?> tick;

  /** Runs the announcements (one thread, the group's own); null before start. */
  private ScheduledExecutorService heartbeats;

  /** The broker's connection epoch as of the last rebalance (guarded by this). */
  private long epoch;

  /**
   * Until when ({@link System#nanoTime}) the group takes no partition: after a reconnect it listens
   * again for two heartbeats (guarded by this).
   */
  private long quietUntil;

  private boolean quiet;

  /** Set when start() has listened: no rebalance (one an announcement asked for) runs before. */
  private volatile boolean started;

  private volatile boolean closed;

  /**
   * @param name what log lines call the group (its queue or destination)
   * @param partitions the channel's partition count
   * @param members local members (the subscription's consumers)
   * @param heartbeat the announcement interval (a member silent for three is dropped)
   * @param handover how long a member waits before taking a partition another member may still hold
   * @param rebalanceOnChange whether a join or a leave rebalances at once rather than on the next
   *     heartbeat. Only where the broker keeps two owners apart: elsewhere a member that reacts at
   *     once may go quiet (e.g. drop its connection to give messages back) just while the joining
   *     member listens, which then hears nobody and takes every partition
   * @param broker the transport's side
   * @param timer the transport's timer, which runs the rebalances
   */
  public PartitionGroup(
      String name,
      int partitions,
      int members,
      Duration heartbeat,
      Duration handover,
      boolean rebalanceOnChange,
      Broker broker,
      ScheduledExecutorService timer) {
    if (members < 1) {
      throw new IllegalArgumentException("members: " + members + " (expected: > 0)");
    }
    this.name = Objects.requireNonNull(name, "name");
    this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
    this.handoverNanos = handover.toNanos();
    this.rebalanceOnChange = rebalanceOnChange;
    this.broker = Objects.requireNonNull(broker, "broker");
    this.timer = Objects.requireNonNull(timer, "timer");
    this.table = new PartitionMembers(partitions, heartbeat, broker.silentMemberHold());
    for (int i = 0; i < members; i++) {
      Slot slot = new Slot(UUID.randomUUID().toString());
      slots.add(slot);
      slotIds.add(slot.id);
    }
  }

  /**
   * Announces the local members and takes their partitions. With {@code listenFirst} > 0 it first
   * listens that long (on the caller's thread), so as not to take partitions from members not heard
   * of yet; when it returns, the member owns every partition it can own now.
   */
  public void start(Duration listenFirst) {
    long period = heartbeat.toMillis();
    epoch = broker.connectionEpoch();
    synchronized (this) {
      if (closed) {
        return;
      }
      // Announcing from the start, every heartbeat, listening included: a member that missed the
      // first hello (reconnecting just then) hears the next one a heartbeat later, not only after
      // this member has listened.
      heartbeats =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "parley-members-" + name);
                t.setDaemon(true);
                return t;
              });
      heartbeats.scheduleWithFixedDelay(() -> announce(true), 0, period, TimeUnit.MILLISECONDS);
    }
    if (!listenFirst.isZero() && !listenFirst.isNegative()) {
      try {
        Thread.sleep(listenFirst.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    started = true;
    rebalance();
    synchronized (this) {
      if (closed) {
        return;
      }
      tick = timer.scheduleWithFixedDelay(this::onTick, period, period, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Takes in an announcement the transport received (any thread; never blocks); with {@code
   * rebalanceOnChange}, a join or a leave schedules a rebalance at once.
   */
  public void heard(byte[] announcement) {
    if (table.heard(announcement) && rebalanceOnChange) {
      rebalanceSoon();
    }
  }

  /** Runs a rebalance on the timer; requests made while one waits to run share it. */
  private void rebalanceSoon() {
    if (closed || !rebalanceDue.compareAndSet(false, true)) {
      return;
    }
    try {
      timer.execute(
          () -> {
            rebalanceDue.set(false);
            try {
              rebalance();
            } catch (RuntimeException e) {
              log.warn("{}: rebalancing failed: {}", name, e.toString());
            }
          });
    } catch (RejectedExecutionException e) {
      rebalanceDue.set(false); // closed
    }
  }

  /** Partitions each local member consumes now, by member id. */
  public synchronized Map<String, Set<Integer>> assignment() {
    Map<String, Set<Integer>> out = new HashMap<>();
    for (Slot s : slots) {
      out.put(s.id, Set.copyOf(s.owned.keySet()));
    }
    return out;
  }

  private void onTick() {
    try {
      rebalance();
    } catch (RuntimeException e) {
      log.warn("{}: rebalancing failed: {}", name, e.toString());
    }
  }

  private void announce(boolean hello) {
    for (Slot s : slots) {
      try {
        broker.announce(hello ? PartitionMembers.hello(s.id) : PartitionMembers.bye(s.id));
        if (hello && handoverNanos > 0) {
          broker.announce(PartitionMembers.holds(s.id, s.holding()));
        }
      } catch (RuntimeException e) {
        log.debug("{}: announcing {} failed: {}", name, s.id, e.toString());
      }
    }
  }

  private void rebalance() {
    rebalancing.lock();
    try {
      rebalanceOnce();
    } finally {
      rebalancing.unlock();
    }
  }

  private void rebalanceOnce() {
    Map<String, Set<Integer>> assignment;
    boolean alone;
    synchronized (this) {
      if (!started || closed || !broker.ready()) {
        return;
      }
      long now = System.nanoTime();
      long connection = broker.connectionEpoch();
      if (connection != epoch) {
        // Announcements were missed while the connection was replaced: a member that joined
        // meanwhile is unknown here, and taking what a stale view assigns could take a partition
        // that member takes too. Hear every member's next hello first.
        epoch = connection;
        quietUntil = now + 2 * heartbeat.toNanos();
        quiet = true;
        log.debug("{}: connected again; listening two heartbeats before taking partitions", name);
        for (Slot s : slots) {
          for (Map.Entry<Integer, AutoCloseable> owned : List.copyOf(s.owned.entrySet())) {
            if (!broker.consumesAfterReconnect(owned.getValue())) {
              log.debug(
                  "{}: member {}'s consumer of partition {} ended with the connection; taking it"
                      + " again once no other member holds it",
                  name,
                  s.id,
                  owned.getKey());
              release(s, owned.getKey());
            }
          }
        }
      } else if (quiet && now - quietUntil >= 0) {
        quiet = false;
      }
      assignment = table.assign(slotIds);
      alone = table.size() == slots.size();
      for (Slot s : slots) {
        Set<Integer> target = assignment.get(s.id);
        for (Integer p : List.copyOf(s.owned.keySet())) {
          if (!target.contains(p)) {
            log.debug("{}: member {} gives up partition {}", name, s.id, p);
            release(s, p);
          }
        }
        s.wanted.keySet().retainAll(target);
      }
    }
    // Give up first, on every slot, so a partition moving between two local slots is free before
    // it is taken.
    for (Runnable release; (release = releases.poll()) != null; ) {
      release.run();
    }
    for (Slot s : slots) {
      boolean first = alone && neverOwned(s);
      for (Integer p : assignment.get(s.id)) {
        if (!mayTake(s, p, first)) {
          continue;
        }
        AutoCloseable consumer;
        try {
          consumer = broker.consume(s.id, p);
        } catch (RuntimeException e) {
          log.debug("{}: member {} cannot take partition {}: {}", name, s.id, p, e.toString());
          continue;
        }
        synchronized (this) {
          if (!closed) {
            s.owned.put(p, consumer);
            s.wanted.remove(p);
            s.everOwned++;
            log.debug("{}: member {} takes partition {}", name, s.id, p);
            continue;
          }
        }
        stop(consumer); // closed while it started
        return;
      }
    }
  }

  /**
   * Gives up slot {@code s}'s partition {@code p}: announced as held until its consumer has
   * stopped, which the rebalance does before it takes anything. Holding this.
   */
  private void release(Slot s, Integer p) {
    s.releasing.add(p);
    AutoCloseable consumer = s.owned.remove(p);
    releases.add(
        () -> {
          try {
            stop(consumer);
          } finally {
            s.releasing.remove(p);
          }
        });
  }

  private synchronized boolean neverOwned(Slot s) {
    return s.everOwned == 0;
  }

  /**
   * Whether slot {@code s} takes partition {@code p} now, which it is assigned; {@code first}: its
   * process's members are the only ones heard of and the slot never owned anything (no previous
   * owner to wait for).
   */
  private synchronized boolean mayTake(Slot s, Integer p, boolean first) {
    if (closed || s.owned.containsKey(p)) {
      return false;
    }
    long since = s.wanted.computeIfAbsent(p, k -> System.nanoTime());
    if (quiet) {
      // Hear the members first, even a member that heard nobody: it may have heard nobody because
      // its connection was down while it listened, and taking every partition at once then would
      // take the partitions of members it has not heard of yet.
      return false;
    }
    if (!first && System.nanoTime() - since < handoverNanos) {
      return false; // give the previous owner time to let go
    }
    if (handoverNanos > 0 && table.heldByOther(p, slotIds)) {
      log.debug("{}: member {} waits for partition {}'s owner to let go", name, s.id, p);
      return false;
    }
    return true;
  }

  private void stop(AutoCloseable consumer) {
    try {
      consumer.close();
    } catch (Exception e) {
      log.debug("{}: stopping a partition consumer failed: {}", name, e.toString());
    }
  }

  /**
   * Stops every local consumer (each drains within the transport's bound; the member goes on
   * announcing itself meanwhile), waits for a rebalance that is giving partitions up (at most the
   * broker's {@link Broker#stopTimeout}: one whose stop never ends is left behind), then says
   * goodbye.
   */
  @Override
  public void close() {
    ScheduledExecutorService announcing;
    List<AutoCloseable> consumers = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (tick != null) {
        tick.cancel(false);
      }
      for (Slot s : slots) {
        consumers.addAll(s.owned.values());
        s.owned.clear();
      }
      announcing = heartbeats;
    }
    consumers.forEach(this::stop);
    for (Runnable release; (release = releases.poll()) != null; ) {
      release.run(); // given up by a rebalance still stopping an earlier one
    }
    try {
      if (rebalancing.tryLock(broker.stopTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
        rebalancing.unlock();
      } else {
        log.warn(
            "{}: a partition consumer did not stop within {}; leaving the group without it",
            name,
            broker.stopTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (announcing != null) {
      // No hello may follow the goodbye: wait for one being sent (a send is bounded by the
      // transport; a heartbeat's wait is only a guard against one that is not).
      announcing.shutdown();
      try {
        announcing.awaitTermination(heartbeat.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    announce(false);
  }

  private static final class Slot {
    final String id;
    final Map<Integer, AutoCloseable> owned = new ConcurrentHashMap<>();

    /** Partitions being given up: their consumer is stopping. */
    final Set<Integer> releasing = ConcurrentHashMap.newKeySet();

    final Map<Integer, Long> wanted = new HashMap<>();
    int everOwned;

    Slot(String id) {
      this.id = id;
    }

    /** What the slot consumes now, partitions it is giving up included (any thread). */
    Set<Integer> holding() {
      // owned before releasing: a partition moves from the first to the second in that order
      Set<Integer> all = new TreeSet<>(owned.keySet());
      all.addAll(releasing);
      return all;
    }
  }
}
