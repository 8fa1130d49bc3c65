package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rebalancing both the RabbitMQ and the STOMP transports use, with the announcements carried by
 * a list instead of a broker (the transports' partitioned TCK runs it on real brokers).
 */
class PartitionGroupTest {

  private static final int PARTITIONS = 8;
  private static final Duration HEARTBEAT = Duration.ofMillis(50);

  private final List<PartitionGroup> everyone = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);

  /** Consumers open now per partition, across every group. */
  private final Map<Integer, AtomicInteger> open = new ConcurrentHashMap<>();

  private final AtomicInteger mostAtOnce = new AtomicInteger();

  /** Groups that hear no announcement (their process is cut off from the broker). */
  private final Set<PartitionGroup> deaf = ConcurrentHashMap.newKeySet();

  /** Timers of processes that have one of their own, as each transport does. */
  private final List<ScheduledExecutorService> ownTimers = new CopyOnWriteArrayList<>();

  /** Consumers' stops the test holds back: let go when it ends, passed or not. */
  private final List<CountDownLatch> heldBack = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    heldBack.forEach(CountDownLatch::countDown);
    everyone.forEach(PartitionGroup::close);
    timer.shutdownNow();
    ownTimers.forEach(ScheduledExecutorService::shutdownNow);
  }

  private final class Process implements PartitionGroup.Broker {
    final Map<Integer, String> owners = new ConcurrentHashMap<>();
    final AtomicInteger mostOwned = new AtomicInteger();

    /** While set, stopping a consumer waits for it (a consumer finishing what it has in hand). */
    volatile CountDownLatch stopsWaitFor;

    PartitionGroup group;

    /** When this process last started consuming a partition ({@link System#nanoTime}). */
    volatile long lastTake;

    /** The transport's connection epoch: bumped to play a reconnect. */
    volatile long epoch;

    /** Consumer stops begun. */
    final AtomicInteger stopsBegun = new AtomicInteger();

    /** What the process tells the group a consumer's stop takes at most. */
    volatile Duration stopTimeout = Duration.ofSeconds(30);

    /** When this process sent each hello ({@link System#nanoTime}). */
    final List<Long> hellos = new CopyOnWriteArrayList<>();

    /**
     * While set, the process is cut off from the broker: what it announces goes nowhere, it hears
     * nothing and cannot open consumers.
     */
    volatile boolean cutOff;

    /** Its consumers the broker has not ended. */
    final Set<FakeConsumer> live = ConcurrentHashMap.newKeySet();

    /** Called by the group for its epoch: a test may play a reconnect at a given call. */
    volatile java.util.function.LongSupplier epochs = () -> epoch;

    @Override
    public void announce(byte[] announcement) {
      if (new String(announcement, java.nio.charset.StandardCharsets.US_ASCII)
          .startsWith("hello")) {
        hellos.add(System.nanoTime());
      }
      if (cutOff) {
        return;
      }
      everyone.stream().filter(g -> !deaf.contains(g)).forEach(g -> g.heard(announcement));
    }

    @Override
    public boolean ready() {
      return !cutOff;
    }

    @Override
    public long connectionEpoch() {
      return epochs.getAsLong();
    }

    @Override
    public boolean consumesAfterReconnect(AutoCloseable consumer) {
      return ((FakeConsumer) consumer).alive;
    }

    /** The connection is lost: the broker ends every consumer (and takes their messages back). */
    void loseConnection() {
      cutOff = true;
      deaf.add(group);
      for (FakeConsumer c : live) {
        c.end();
      }
    }

    /** A new connection, on which the transport restores no partition consumer. */
    void connectAgain() {
      epoch++;
      deaf.remove(group);
      cutOff = false;
    }

    /** One partition's consumer; counted open from its start until it ends or stops. */
    final class FakeConsumer implements AutoCloseable {
      final int partition;
      volatile boolean alive = true;

      FakeConsumer(int partition) {
        this.partition = partition;
        live.add(this);
      }

      synchronized void end() {
        if (alive) {
          alive = false;
          live.remove(this);
          open.get(partition).decrementAndGet();
        }
      }

      @Override
      public void close() throws Exception {
        stopsBegun.incrementAndGet();
        CountDownLatch handlers = stopsWaitFor;
        if (handlers != null) {
          handlers.await(10, TimeUnit.SECONDS);
        }
        owners.remove(partition);
        end();
      }
    }

    @Override
    public Duration stopTimeout() {
      return stopTimeout;
    }

    @Override
    public AutoCloseable consume(String member, int partition) {
      int now = open.computeIfAbsent(partition, p -> new AtomicInteger()).incrementAndGet();
      mostAtOnce.accumulateAndGet(now, Math::max);
      owners.put(partition, member);
      lastTake = System.nanoTime();
      mostOwned.accumulateAndGet(owners.size(), Math::max);
      return new FakeConsumer(partition);
    }

    /** Partitions its live consumers consume. */
    Set<Integer> consuming() {
      Set<Integer> partitions = new HashSet<>();
      live.forEach(c -> partitions.add(c.partition));
      return partitions;
    }
  }

  /** A one-thread timer of the process's own, as each transport has. */
  private ScheduledExecutorService ownTimer() {
    ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor();
    ownTimers.add(t);
    return t;
  }

  /**
   * Lets {@code first}'s held consumer stops end, then waits until the two share the partitions.
   */
  private static void letGoAndAwaitHalves(Process first, Process second, CountDownLatch handlers) {
    handlers.countDown();
    first.stopsWaitFor = null;
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(first.owners).hasSize(PARTITIONS / 2);
              assertThat(second.owners).hasSize(PARTITIONS / 2);
            });
  }

  /** Waits until each of the two consumes half of the partitions, with live consumers. */
  private static void awaitConsumingHalves(Process first, Process second) {
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(first.consuming()).hasSize(PARTITIONS / 2);
              assertThat(second.consuming()).hasSize(PARTITIONS / 2);
            });
  }

  private Process join(int members, Duration handover) {
    return join(members, handover, timer);
  }

  private Process join(int members, Duration handover, ScheduledExecutorService timer) {
    return join(members, handover, timer, HEARTBEAT);
  }

  private Process join(
      int members, Duration handover, ScheduledExecutorService timer, Duration heartbeat) {
    Process p = new Process();
    p.group =
        new PartitionGroup(
            "test", PARTITIONS, members, heartbeat, handover, handover.isZero(), p, timer);
    everyone.add(p.group);
    p.group.start(heartbeat.multipliedBy(3).dividedBy(2));
    return p;
  }

  private static Set<Integer> owned(Process... processes) {
    Set<Integer> all = new HashSet<>();
    for (Process p : processes) {
      all.addAll(p.owners.keySet());
    }
    return all;
  }

  @Test
  void aMemberAloneTakesEveryPartitionBeforeStartReturns() {
    Process first = join(2, HEARTBEAT.multipliedBy(2));

    assertThat(first.owners).hasSize(PARTITIONS);
    assertThat(new HashSet<>(first.owners.values())).as("both local members").hasSize(2);
    assertThat(first.group.assignment().values().stream().mapToInt(Set::size).sum())
        .isEqualTo(PARTITIONS);
  }

  @Test
  void membersThatJoinShareThePartitionsAndNoPartitionHasTwoOwnersAtOnce() {
    Process first = join(1, HEARTBEAT.multipliedBy(2));
    Process second = join(3, HEARTBEAT.multipliedBy(2));

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(first.owners).hasSize(2);
              assertThat(second.owners).hasSize(6);
              assertThat(owned(first, second)).hasSize(PARTITIONS);
            });
    assertThat(mostAtOnce).as("a partition's owners at once").hasValue(1);
  }

  @Test
  void whenAMemberLeavesTheOthersTakeItsPartitions() throws Exception {
    Process first = join(1, HEARTBEAT.multipliedBy(2));
    Process second = join(1, HEARTBEAT.multipliedBy(2));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(second.owners).hasSize(4));

    second.group.close();
    everyone.remove(second.group);

    assertThat(second.owners).as("closed: every consumer stopped").isEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(first.owners).hasSize(PARTITIONS));
    assertThat(mostAtOnce).hasValue(1);
  }

  @Test
  void withoutAHandoverWaitAJoiningMemberTakesItsPartitionsOnTheNextRebalance() {
    Process first = join(1, Duration.ZERO);
    List<Process> later = new ArrayList<>();
    later.add(join(1, Duration.ZERO));

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(first.owners).hasSize(4);
              assertThat(later.get(0).owners).hasSize(4);
            });
  }

  /**
   * A member whose rebalance waits for a consumer it gives up (handlers still running, up to the
   * transport's close timeout) keeps announcing itself: the others must not drop it after three
   * silent heartbeats and take its partitions while it still holds them. Each member has a timer of
   * its own (one thread), as in the transports.
   */
  @Test
  void aMemberWaitingForAConsumerItGivesUpIsNotDroppedByTheOthers() {
    ScheduledExecutorService firstTimer = ownTimer();
    ScheduledExecutorService secondTimer = ownTimer();
    // Slower heartbeats than the other tests': a member is dropped after 3 of them (600 ms), far
    // above a loaded machine's scheduling delays.
    Duration heartbeat = Duration.ofMillis(200);
    Process first = join(1, Duration.ZERO, firstTimer, heartbeat);
    assertThat(first.owners).hasSize(PARTITIONS);
    CountDownLatch handlers = new CountDownLatch(1);
    first.stopsWaitFor = handlers;
    heldBack.add(handlers);

    Process second = join(1, Duration.ZERO, secondTimer, heartbeat);

    // The fault: first's rebalance is stuck in giving a partition up.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> second.owners.size() > 0 && first.owners.size() == PARTITIONS);
    // For 10 heartbeats the second member never takes more than its share.
    await()
        .during(heartbeat.multipliedBy(10))
        .atMost(heartbeat.multipliedBy(15))
        .until(() -> second.mostOwned.get() <= PARTITIONS / 2);
    assertThat(first.owners).as("still waiting for its consumer").hasSize(PARTITIONS);

    letGoAndAwaitHalves(first, second, handlers);
    assertThat(second.mostOwned).hasValue(PARTITIONS / 2);
  }

  /**
   * A consumer whose stop does not end (seen on RabbitMQ: the client library waiting for good on a
   * broker call after the member's connection died) holds up neither the group's close nor its
   * other consumers' stops: close waits for it up to the broker's stop timeout, then says goodbye,
   * and the other members take the partitions.
   */
  @Test
  void aConsumerWhoseStopHangsDoesNotHoldUpTheGroupsClose() {
    Process first = join(1, Duration.ZERO, ownTimer());
    assertThat(first.owners).hasSize(PARTITIONS);
    CountDownLatch never = new CountDownLatch(1);
    heldBack.add(never);
    first.stopsWaitFor = never;
    first.stopTimeout = Duration.ofMillis(300);

    Process second = join(1, Duration.ZERO, ownTimer());
    // The fault: first's rebalance is stuck giving a partition up.
    await().atMost(Duration.ofSeconds(5)).until(() -> first.stopsBegun.get() == 1);
    first.stopsWaitFor = null; // the first stop hangs, the others would not
    assertThat(first.group.assignment().values().iterator().next())
        .as("answered while a stop hangs")
        .hasSize(PARTITIONS / 2);

    long began = System.nanoTime();
    first.group.close();
    assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(3));
    assertThat(first.owners).as("only the hanging one left, given up or not").hasSize(1);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(second.owners).hasSize(PARTITIONS));
  }

  /**
   * Where the members keep owners apart themselves (a hand-over wait, as on STOMP), a member whose
   * consumer takes longer to let go than the wait keeps the partition until it has let go: the next
   * owner waits for its announcements, not only for the wait.
   */
  @Test
  void aPartitionWhoseOwnerIsSlowToLetGoIsNotTakenBeforeItHas() {
    ScheduledExecutorService firstTimer = ownTimer();
    ScheduledExecutorService secondTimer = ownTimer();
    Duration heartbeat = Duration.ofMillis(100);
    Duration handover = heartbeat.multipliedBy(2);
    Process first = join(1, handover, firstTimer, heartbeat);
    assertThat(first.owners).hasSize(PARTITIONS);
    CountDownLatch handlers = new CountDownLatch(1);
    first.stopsWaitFor = handlers;
    heldBack.add(handlers);

    Process second = join(1, handover, secondTimer, heartbeat);

    // first gives its first partition up and waits for it: ten hand-over waits go by
    await()
        .during(handover.multipliedBy(10))
        .atMost(handover.multipliedBy(15))
        .until(() -> second.owners.isEmpty());
    assertThat(first.owners).as("still letting go").hasSize(PARTITIONS);

    letGoAndAwaitHalves(first, second, handlers);
    assertThat(mostAtOnce).as("a partition's owners at once").hasValue(1);
  }

  /** Hellos go out every heartbeat from the start, while the member listens too. */
  @Test
  void aMemberAnnouncesItselfEveryHeartbeatWhileItListens() {
    Process p = new Process();
    p.group = new PartitionGroup("test", PARTITIONS, 1, HEARTBEAT, HEARTBEAT, false, p, timer);
    everyone.add(p.group);
    p.group.start(HEARTBEAT.multipliedBy(5));
    long returned = System.nanoTime();

    assertThat(p.hellos.stream().filter(t -> t < returned).count())
        .as("hellos while listening for 5 heartbeats")
        .isGreaterThanOrEqualTo(3);
  }

  /**
   * A member whose transport connected again missed the announcements sent meanwhile (a member that
   * joined then is unknown to it): it takes nothing for two heartbeats, time to hear every member's
   * next hello, even where it would otherwise take at once.
   */
  @Test
  void afterAReconnectAMemberListensTwoHeartbeatsBeforeItTakesPartitions() {
    ScheduledExecutorService firstTimer = ownTimer();
    ScheduledExecutorService secondTimer = ownTimer();
    Duration heartbeat = Duration.ofMillis(200);
    Process first = join(1, Duration.ZERO, firstTimer, heartbeat);
    Process second = join(1, Duration.ZERO, secondTimer, heartbeat);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(first.owners).hasSize(PARTITIONS / 2));

    first.epoch++; // the first member's transport connected again
    long left = System.nanoTime();
    second.group.close(); // its goodbye makes the first rebalance at once
    everyone.remove(second.group);
    await().atMost(Duration.ofSeconds(10)).until(() -> first.owners.size() == PARTITIONS);

    assertThat(Duration.ofNanos(first.lastTake - left))
        .as("the first member took the partitions after")
        .isGreaterThanOrEqualTo(heartbeat.multipliedBy(2).minusMillis(20));
  }

  /**
   * A member cut off from the broker for longer than three heartbeats is dropped by the others, who
   * take its partitions; its consumers ended with its connection. Connected again, it must not
   * count on them (a transport restoring them gave a partition two consumers: per-key order
   * violations in full-size M1 runs on STOMP), nor leave their partitions unconsumed: it gives them
   * up and takes its share again once the others have let go.
   */
  @Test
  void aMemberCutOffAndDroppedTakesItsPartitionsAgainOnlyOnceTheOthersLetGo() {
    Duration heartbeat = Duration.ofMillis(100);
    Process first = join(1, heartbeat.multipliedBy(2), ownTimer(), heartbeat);
    Process second = join(1, heartbeat.multipliedBy(2), ownTimer(), heartbeat);
    awaitConsumingHalves(first, second);

    first.loseConnection();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(second.consuming()).hasSize(PARTITIONS));
    first.connectAgain();

    awaitConsumingHalves(first, second);
    assertThat(first.group.assignment().values().iterator().next())
        .as("what the group holds is what it consumes")
        .isEqualTo(first.consuming());
    assertThat(mostAtOnce).as("a partition's consumers at once").hasValue(1);
  }

  /**
   * A member whose connection was replaced while it listened heard nobody: it must not take every
   * partition at once as the first member of a group does, for it may simply not have heard the
   * members yet. It listens two heartbeats on the new connection, then shares.
   */
  @Test
  void aMemberThatHeardNobodyBecauseItWasCutOffWhileItListenedDoesNotTakeEverything() {
    Duration heartbeat = Duration.ofMillis(100);
    Process first = join(1, heartbeat.multipliedBy(2), ownTimer(), heartbeat);
    assertThat(first.consuming()).hasSize(PARTITIONS);

    Process second = new Process();
    second.group =
        new PartitionGroup(
            "test", PARTITIONS, 1, heartbeat, heartbeat.multipliedBy(2), false, second, ownTimer());
    everyone.add(second.group);
    deaf.add(second.group); // cut off while it listens: it hears nobody
    AtomicInteger epochCalls = new AtomicInteger();
    second.epochs =
        () -> {
          if (epochCalls.incrementAndGet() == 1) {
            return 0; // start(): before listening
          }
          deaf.remove(second.group); // connected again when the listening ends
          return 1;
        };
    second.group.start(heartbeat.multipliedBy(3));

    assertThat(second.consuming()).as("taken when start returned").isEmpty();
    awaitConsumingHalves(first, second);
    assertThat(mostAtOnce).as("a partition's consumers at once").hasValue(1);
  }
}
