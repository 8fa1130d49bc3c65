package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M6 on RabbitMQ: per-key order on a partitioned channel while the members of the
 * group come, go and die, with no coordinator but the broker.
 *
 * <p>Build size: 100 keys × 20 sequence numbers, members added or removed 4 times and killed 2
 * times. The full size is {@code -Dparley.m6.keys=1000 -Dparley.m6.seqs=50 -Dparley.m6.churns=10
 * -Dparley.m6.kills=5}; {@code -Dparley.m6.seed=N} replays a run.
 *
 * <p>A member is killed by cutting its TCP connections with a {@link FaultProxy} that then refuses
 * new ones: the broker sees the connection die without a goodbye, requeues what the member had not
 * acknowledged, and the other members see its heartbeats stop. Every member reaches the broker
 * through a proxy of its own.
 */
class RabbitElasticPartitionsIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static final int PARTITIONS = 8;
  private static final Duration OWNERSHIP_BOUND = Duration.ofSeconds(10);

  private final int keys = Integer.getInteger("parley.m6.keys", 100);
  private final int seqs = Integer.getInteger("parley.m6.seqs", 20);
  private final int churns = Integer.getInteger("parley.m6.churns", 4);
  private final int kills = Integer.getInteger("parley.m6.kills", 2);
  private final long seed = Long.getLong("parley.m6.seed", System.nanoTime());

  private final String channel = "m6." + Long.toHexString(seed);
  private final Destination.GroupQueue group = new Destination.GroupQueue(channel, "g");
  private final List<Member> members = new ArrayList<>();
  private final Checker checker = new Checker();
  private RabbitTransport producer;

  @AfterEach
  void tearDown() {
    members.forEach(Member::close);
    if (producer != null) {
      producer.close();
    }
  }

  @Test
  void perKeyOrderHoldsAndEveryPartitionHasOneOwnerWhileMembersComeGoAndDie() {
    System.out.printf(
        "M6 seed=%d keys=%d seqs=%d churns=%d kills=%d%n", seed, keys, seqs, churns, kills);
    Random random = new Random(seed);
    producer = transport(URI.create(rabbit.amqpUri().toString()));
    start(1);
    start(1);
    awaitOneOwnerPerPartition();

    List<String> plan = new ArrayList<>();
    plan.addAll(Collections.nCopies(churns, "churn"));
    plan.addAll(Collections.nCopies(kills, "kill"));
    Collections.shuffle(plan, random);
    int rounds = plan.size() + 1;
    int sent = 0;
    List<Long> ownershipMillis = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      int upTo = (int) ((long) seqs * (round + 1) / rounds);
      publish(sent + 1, upTo);
      sent = upTo;
      if (round < plan.size()) {
        String change = applyChange(plan.get(round), random);
        long started = System.nanoTime();
        awaitOneOwnerPerPartition();
        long took = (System.nanoTime() - started) / 1_000_000;
        ownershipMillis.add(took);
        System.out.printf(
            "M6 round %d: %s -> %d live members, one owner per partition after %d ms%n",
            round, change, live().size(), took);
      }
    }

    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> checker.completeKeys(seqs) == keys);

    System.out.printf(
        "M6 result: applied=%d duplicates(redelivered)=%d violations=%d kills=%d"
            + " consumersSeen=%d maxOwnershipMs=%d%n",
        checker.applied.get(),
        checker.duplicates.get(),
        checker.violations.size(),
        members.stream().filter(m -> m.killed).count(),
        checker.consumers.size(),
        Collections.max(ownershipMillis));
    assertThat(checker.violations).as("per-key order violations").isEmpty();
    assertThat(checker.applied.get()).isEqualTo((long) keys * seqs);
    // Evidence that the faults happened.
    assertThat(members.stream().filter(m -> m.killed).count()).isEqualTo(kills);
    assertThat(members.stream().filter(m -> m.killed).mapToLong(m -> m.proxy.resets()).sum())
        .isGreaterThanOrEqualTo(kills);
    assertThat(checker.consumers.size()).isGreaterThanOrEqualTo(3);
  }

  private String applyChange(String change, Random random) {
    List<Member> live = live();
    if (change.equals("kill")) {
      String added = "";
      if (live.size() < 2) {
        added = "added " + start(1).name + ", ";
        live = live();
      }
      Member victim = live.get(random.nextInt(live.size()));
      victim.kill();
      return added + "killed " + victim.name;
    }
    if (live.size() < 2 || (live.size() < 4 && random.nextBoolean())) {
      return "added " + start(1 + random.nextInt(2)).name;
    }
    Member leaving = live.get(random.nextInt(live.size()));
    leaving.leave();
    return "removed " + leaving.name;
  }

  private List<Member> live() {
    return members.stream().filter(m -> m.subscription != null).toList();
  }

  private Member start(int concurrency) {
    FaultProxy proxy = FaultProxy.to("127.0.0.1", 5672);
    URI uri = rabbit.amqpUri(proxy.port());
    Member m = new Member("m" + members.size() + "x" + concurrency, proxy, transport(uri));
    m.subscription =
        m.transport.subscribe(
            group,
            new ConsumerSettings(concurrency, 10, false, true),
            DeliveryHandler.settling(d -> checker.apply(d, m)));
    m.slots = concurrency;
    members.add(m);
    return m;
  }

  private static RabbitTransport transport(URI uri) {
    return RabbitTransport.builder(uri)
        .memberHeartbeat(Duration.ofMillis(300))
        .recoveryInterval(Duration.ofMillis(250))
        .sendTimeout(Duration.ofSeconds(10))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  private void publish(int fromSeq, int toSeq) {
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int seq = fromSeq; seq <= toSeq; seq++) {
      for (int k = 0; k < keys; k++) {
        String key = "k" + k;
        Message m =
            Message.builder()
                .header(Headers.PARTITION_KEY, key)
                .payload((key + ":" + seq).getBytes(StandardCharsets.US_ASCII))
                .build();
        sends.add(producer.send(new Destination.Event(channel), m, SendOptions.NONE));
      }
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
  }

  /**
   * Asks the broker, not the members: each partition queue has exactly one consumer and it is the
   * active one; the owners are the live members' slots, each owning its share.
   */
  private void awaitOneOwnerPerPartition() {
    int slots = live().stream().mapToInt(m -> m.slots).sum();
    await()
        .atMost(OWNERSHIP_BOUND)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              Map<String, List<String[]>> byQueue = new TreeMap<>();
              for (String line :
                  rabbit
                      .ctl()
                      .list(
                          "list_consumers",
                          "-p",
                          rabbit.vhost(),
                          "queue_name",
                          "consumer_tag",
                          "active")) {
                String[] f = line.trim().split("\\s+");
                if (f[0].startsWith(group.queueName() + ".p")) {
                  byQueue.computeIfAbsent(f[0], q -> new ArrayList<>()).add(f);
                }
              }
              assertThat(byQueue).hasSize(PARTITIONS);
              Map<String, Integer> owned = new HashMap<>();
              byQueue.forEach(
                  (queue, consumers) -> {
                    assertThat(consumers).as(queue).hasSize(1);
                    assertThat(consumers.get(0)[2]).as(queue + " active").isEqualTo("true");
                    String tag = consumers.get(0)[1];
                    owned.merge(tag.substring(0, tag.lastIndexOf(".p")), 1, Integer::sum);
                  });
              assertThat(owned).hasSize(Math.min(slots, PARTITIONS));
              assertThat(owned.values())
                  .allSatisfy(
                      n ->
                          assertThat(n)
                              .isBetween(
                                  PARTITIONS / Math.min(slots, PARTITIONS),
                                  (PARTITIONS + slots - 1) / Math.min(slots, PARTITIONS)));
            });
  }

  /** Per key: each sequence number first applied right after the one before it. */
  private static final class Checker {
    final Map<String, Integer> last = new ConcurrentHashMap<>();
    final AtomicLong applied = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final Map<String, Boolean> consumers = new ConcurrentHashMap<>();

    CompletableFuture<Void> apply(Delivery d, Member member) {
      String[] body = new String(d.message().payload(), StandardCharsets.US_ASCII).split(":");
      String key = body[0];
      int seq = Integer.parseInt(body[1]);
      consumers.put(member.name + "/" + Thread.currentThread().getName(), true);
      synchronized (key.intern()) {
        int previous = last.getOrDefault(key, 0);
        if (seq <= previous) {
          duplicates.incrementAndGet(); // a redelivery of what a dead member applied
        } else if (seq == previous + 1) {
          last.put(key, seq);
          applied.incrementAndGet();
        } else {
          violations.add(key + ": " + seq + " after " + previous + " at " + member.name);
        }
      }
      return CompletableFuture.completedFuture(null);
    }

    int completeKeys(int seqs) {
      return (int) last.values().stream().filter(v -> v == seqs).count();
    }
  }

  private static final class Member {
    final String name;
    final FaultProxy proxy;
    final RabbitTransport transport;
    volatile TransportSubscription subscription;
    int slots;
    volatile boolean killed;

    Member(String name, FaultProxy proxy, RabbitTransport transport) {
      this.name = name;
      this.proxy = proxy;
      this.transport = transport;
    }

    /** Dies: its connections are cut and it cannot reconnect; it says no goodbye. */
    void kill() {
      killed = true;
      proxy.disable();
      subscription = null;
    }

    /** Leaves in good order: stops consuming and says goodbye. */
    void leave() {
      subscription.close();
      subscription = null;
    }

    void close() {
      if (subscription != null) {
        subscription.close();
      }
      transport.close();
      proxy.close();
    }
  }
}
