package dev.parley.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.transport.spi.Transport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY.md M1 at build size: messages written through the outbox (a share of the business
 * transactions rolled back), relayed to a private broker the test starts, consumed through the
 * inbox into a ledger with no unique constraint — while the broker is killed ({@code kill -9})
 * twice, consumers are killed three times (their connections cut, no goodbye) and the relay once.
 * Subclasses pick the broker. The history-and-checker method: every writer attempt is logged with
 * its outcome; at the end the checker counts lost, duplicate and ghost effects and per-key order
 * violations, and the evidence that each fault happened.
 *
 * <p>Build size: 10,000 messages over 1,000 keys, broker killed 2×, consumers 3×, relay 1×. The
 * full size is a command line (RELIABILITY.md's 100k, 5×, 10×, 5×):
 *
 * <pre>
 * ./mvnw verify -pl jdbc -Dit.test=ChaosM1ArtemisIT -Dparley.m1.messages=100000 \
 *   -Dparley.m1.brokerKills=5 -Dparley.m1.consumerKills=10 -Dparley.m1.relayKills=5
 * </pre>
 *
 * The seed is printed and {@code -Dparley.m1.seed} replays the plan; the run fails (exit code
 * non-zero) on any loss, duplicate, ghost or order violation, or when a planned fault is missing.
 */
abstract class ChaosM1Contract {

  record Event(String key, int seq) {}

  private final int messages = Integer.getInteger("parley.m1.messages", 10_000);
  private final int keys = Integer.getInteger("parley.m1.keys", 1_000);
  private final long seed = Long.getLong("parley.m1.seed", System.nanoTime());
  private final int plannedBrokerKills = Integer.getInteger("parley.m1.brokerKills", 2);
  private final int plannedConsumerKills = Integer.getInteger("parley.m1.consumerKills", 3);
  private final int plannedRelayKills = Integer.getInteger("parley.m1.relayKills", 1);
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** Starts the private broker (once per class). */
  abstract void startBroker();

  /** Kills the broker with SIGKILL and starts it again on the same ports and data. */
  abstract void killAndRestartBroker();

  /** Anything the broker needs before the faults begin (queues are declared by then). */
  void beforeFaults(Messaging producer) {}

  /** The broker's client port (consumers reach it through fault proxies). */
  abstract int brokerPort();

  /** A transport to the broker at {@code port} on loopback. */
  abstract Transport transport(int port);

  abstract long reconnects(Transport transport);

  abstract boolean isConnected(Transport transport);

  /** What the writers did: message id → (key, seq, committed?). */
  record Attempt(String key, int seq, boolean committed) {}

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() throws Exception {
    System.out.printf("M1 seed=%d messages=%d keys=%d%n", seed, messages, keys);
    Random random = new Random(seed);
    try (Database.Instance db = Database.POSTGRESQL.open()) {
      Database.execute(
          db.dataSource(),
          "CREATE TABLE ledger (applied BIGSERIAL PRIMARY KEY, message_id VARCHAR(64),"
              + " k VARCHAR(64), seq INT)");
      String channelName = "m1." + Long.toHexString(seed);
      Channel<Event> events = Channel.event(channelName, Event.class).withPartitionKey(Event::key);
      Inbox inbox = Inbox.builder(db.dataSource()).build();
      Map<String, Attempt> history = new ConcurrentHashMap<>();

      // Producer side: its own connection straight to the broker.
      startBroker();
      Messaging producer = messaging("orders", brokerPort());
      List<Consumer> consumers = new ArrayList<>();
      consumers.add(consumer(events, inbox));
      consumers.add(consumer(events, inbox));
      beforeFaults(producer);

      Outbox[] relay = {relay(db, producer, "relay-1")};
      int writers = Integer.getInteger("parley.m1.writers", 2);
      // Each writer owns the keys k with k % writers == its number: keys must divide evenly.
      assertThat(keys % writers).as("keys %% writers").isZero();
      AtomicInteger written = new AtomicInteger();
      List<CompletableFuture<Void>> writing = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        Random r = new Random(seed + w);
        writing.add(
            CompletableFuture.runAsync(
                () -> write(db, relay, events, history, writer, writers, r, written)));
      }

      // The fault plan, spread over the run.
      List<String> plan = new ArrayList<>();
      plan.addAll(java.util.Collections.nCopies(plannedBrokerKills, "broker"));
      plan.addAll(java.util.Collections.nCopies(plannedConsumerKills, "consumer"));
      plan.addAll(java.util.Collections.nCopies(plannedRelayKills, "relay"));
      java.util.Collections.shuffle(plan, random);
      int brokerKills = 0;
      int consumerKills = 0;
      int relayKills = 0;
      for (int i = 0; i < plan.size(); i++) {
        int target = messages * (i + 1) / (plan.size() + 1);
        await().atMost(Duration.ofSeconds(120)).until(() -> written.get() >= target);
        switch (plan.get(i)) {
          case "broker" -> {
            killAndRestartBroker();
            brokerKills++;
          }
          case "consumer" -> {
            Consumer victim = consumers.remove(random.nextInt(consumers.size()));
            victim.kill();
            consumers.add(consumer(events, inbox));
            consumerKills++;
          }
          default -> {
            relay[0].close();
            relay[0] = relay(db, producer, "relay-" + (relayKills + 2));
            relayKills++;
          }
        }
        System.out.printf("M1 fault %d: %s at %d written%n", i + 1, plan.get(i), written.get());
      }
      CompletableFuture.allOf(writing.toArray(CompletableFuture[]::new)).get(180, TimeUnit.SECONDS);

      Set<String> committed = new HashSet<>();
      history.forEach(
          (id, a) -> {
            if (a.committed()) {
              committed.add(id);
            }
          });
      long[] lastReport = {System.nanoTime()};
      await()
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                long applied = distinctApplied(db);
                if (System.nanoTime() - lastReport[0] > TimeUnit.SECONDS.toNanos(5)) {
                  lastReport[0] = System.nanoTime();
                  System.out.printf(
                      "M1 draining: applied %d of %d; relay %s; inbox handled %d, dedup hits %d%n",
                      applied,
                      committed.size(),
                      relay[0].metrics(),
                      inbox.handled(),
                      inbox.duplicates());
                }
                return applied >= committed.size();
              });

      Checker result = check(db, history);
      System.out.printf(
          "M1 result: written=%d committed=%d rolledBack=%d applied=%d lost=%d duplicate=%d"
              + " ghost=%d orderViolations=%d brokerKills=%d consumerKills=%d relayKills=%d"
              + " producerReconnects=%d dedupHits=%d%n",
          history.size(),
          committed.size(),
          history.size() - committed.size(),
          result.applied,
          result.lost,
          result.duplicate,
          result.ghost,
          result.orderViolations,
          brokerKills,
          consumerKills,
          relayKills,
          reconnects(producer.transport()),
          inbox.duplicates());
      assertThat(result.lost).as("lost").isZero();
      assertThat(result.duplicate).as("duplicate effects").isZero();
      assertThat(result.ghost).as("ghosts").isZero();
      assertThat(result.orderViolations).as("per-key order violations").isZero();
      // Evidence that the faults happened.
      assertThat(brokerKills).isEqualTo(plannedBrokerKills);
      assertThat(consumerKills).isEqualTo(plannedConsumerKills);
      assertThat(relayKills).isEqualTo(plannedRelayKills);
      assertThat(reconnects(producer.transport())).isGreaterThanOrEqualTo(plannedBrokerKills);
      assertThat(history.size() - committed.size()).as("rolled back").isPositive();
    } finally {
      for (int i = closeables.size() - 1; i >= 0; i--) {
        try {
          closeables.get(i).close();
        } catch (Exception e) {
          // best effort at the end of a chaos run
        }
      }
    }
  }

  private void write(
      Database.Instance db,
      Outbox[] relay,
      Channel<Event> events,
      Map<String, Attempt> history,
      int writer,
      int writers,
      Random random,
      AtomicInteger written) {
    int perWriter = messages / writers;
    Map<String, Integer> nextSeq = new HashMap<>();
    for (int i = 0; i < perWriter; i++) {
      // Each writer owns its keys, so one key's sequence numbers are assigned in commit order.
      String key = "k" + ((i * writers + writer) % keys);
      int seq = nextSeq.merge(key, 1, Integer::sum);
      boolean commit = random.nextInt(100) >= 5;
      try (Connection c = db.dataSource().getConnection()) {
        c.setAutoCommit(false);
        String id = relay[0].publish(c, events, new Event(key, seq)).id();
        if (commit) {
          c.commit();
        } else {
          c.rollback();
          nextSeq.merge(key, -1, Integer::sum); // that seq was never committed: reuse it
        }
        history.put(id, new Attempt(key, seq, commit));
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      written.incrementAndGet();
    }
  }

  private Outbox relay(Database.Instance db, Messaging producer, String instance) {
    Outbox o =
        Outbox.builder(db.dataSource(), producer)
            .instance(instance)
            .lease(Duration.ofSeconds(1))
            .pollInterval(Duration.ofMillis(20))
            .build()
            .start();
    closeables.add(o);
    return o;
  }

  private Messaging messaging(String service, int port) {
    Messaging m =
        Messaging.builder()
            .service(service)
            .transport(transport(port))
            .codecs(Codecs.of(JsonCodec.of()))
            .subscriptionOptions(
                SubscriptionOptions.defaults()
                    .withConcurrency(2)
                    .withPrefetch(20)
                    .withRedelivery(
                        Redelivery.of(5, Duration.ofMillis(20), Duration.ofMillis(200))))
            .build();
    closeables.add(m);
    return m;
  }

  /** A consumer instance behind a fault proxy of its own, so it can be killed. */
  private final class Consumer {
    final FaultProxy proxy;
    final Messaging messaging;

    Consumer(FaultProxy proxy, Messaging messaging) {
      this.proxy = proxy;
      this.messaging = messaging;
    }

    void kill() {
      proxy.disable(); // connections cut, no reconnect, no goodbye
    }
  }

  private Consumer consumer(Channel<Event> events, Inbox inbox) {
    FaultProxy proxy = FaultProxy.to("127.0.0.1", brokerPort());
    closeables.add(proxy);
    Messaging m = messaging("ledger-service", proxy.port());
    m.subscribe(
        events,
        "ledger",
        inbox.handler(
            "ledger",
            (Event e, dev.parley.messaging.MessageContext ctx, Connection c) -> {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO ledger (message_id, k, seq) VALUES (?, ?, ?)")) {
                ps.setString(1, ctx.message().id());
                ps.setString(2, e.key());
                ps.setInt(3, e.seq());
                ps.executeUpdate();
              }
            }));
    return new Consumer(proxy, m);
  }

  private static long distinctApplied(Database.Instance db) {
    return db.count("SELECT COUNT(DISTINCT message_id) FROM ledger");
  }

  static final class Checker {
    long applied;
    long lost;
    long duplicate;
    long ghost;
    long orderViolations;
  }

  private static Checker check(Database.Instance db, Map<String, Attempt> history)
      throws SQLException {
    Checker c = new Checker();
    Map<String, Integer> times = new HashMap<>();
    Map<String, Integer> lastSeq = new HashMap<>();
    try (Connection conn = db.dataSource().getConnection();
        PreparedStatement ps =
            conn.prepareStatement("SELECT message_id, k, seq FROM ledger ORDER BY applied");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        c.applied++;
        String id = rs.getString(1);
        String key = rs.getString(2);
        int seq = rs.getInt(3);
        times.merge(id, 1, Integer::sum);
        Attempt a = history.get(id);
        if (a == null || !a.committed()) {
          c.ghost++;
        }
        int previous = lastSeq.getOrDefault(key, 0);
        if (seq != previous + 1) {
          if (c.orderViolations++ < 10) {
            System.out.printf("M1 order violation: %s seq %d after %d%n", key, seq, previous);
          }
        }
        lastSeq.put(key, Math.max(previous, seq));
      }
    }
    c.duplicate = times.values().stream().filter(n -> n > 1).count();
    c.lost =
        history.entrySet().stream()
            .filter(e -> e.getValue().committed() && !times.containsKey(e.getKey()))
            .count();
    return c;
  }
}
