package dev.parley.chaos;

import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.jdbc.Inbox;
import dev.parley.jdbc.Outbox;
import dev.parley.jdbc.Schema;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.ScratchDatabase;
import dev.parley.transport.spi.Transport;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * RELIABILITY.md M1 with the history-and-checker method. Writers publish N events over K keys
 * through the outbox, each in a business transaction of its own (5 % rolled back), and log every
 * attempt with its outcome. A relay sends them to a private broker; two consumers apply them
 * through the inbox to a ledger that has no unique constraint. Meanwhile, at points spread over the
 * run and in an order drawn from the seed, the broker is killed with SIGKILL and restarted,
 * consumers are killed (their connections cut, no goodbye) and replaced, and the relay is killed
 * (its connection cut, its thread stopped without releasing the lease) and replaced. At the end the
 * checker reads the ledger against the history: lost, duplicate and ghost effects, per-key order
 * violations, and the evidence that each fault happened.
 */
public final class ChaosM1 {

  record Event(String key, int seq) {}

  /** What one writer attempt did. */
  private record Attempt(String key, int seq, boolean committed) {}

  /** One run's size, fault plan and parts. */
  public record Config(
      int messages,
      int keys,
      long seed,
      int brokerKills,
      int consumerKills,
      int relayKills,
      int writers,
      String broker,
      ScratchDatabase database) {

    public Config {
      if (messages < 1 || keys < 1 || writers < 1 || keys % writers != 0) {
        throw new IllegalArgumentException(
            "messages, keys and writers must be positive, keys a multiple of writers");
      }
      if (brokerKills < 0 || consumerKills < 0 || relayKills < 0) {
        throw new IllegalArgumentException("kill counts must not be negative");
      }
    }

    /** RELIABILITY.md's build size: 10,000 messages over 1,000 keys; kills 2×, 3×, 1×. */
    public static Config buildSize(String broker, long seed) {
      return new Config(10_000, 1_000, seed, 2, 3, 1, 2, broker, ScratchDatabase.POSTGRESQL);
    }

    /** RELIABILITY.md's full size: 100,000 messages over 1,000 keys; kills 5×, 10×, 5×. */
    public static Config fullSize(String broker, long seed) {
      return new Config(100_000, 1_000, seed, 5, 10, 5, 2, broker, ScratchDatabase.POSTGRESQL);
    }
  }

  private final Config config;
  private final PrintStream out;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Map<String, Attempt> history = new ConcurrentHashMap<>();
  private final Map<String, Integer> deliveries = new ConcurrentHashMap<>();
  private final AtomicLong relayed = new AtomicLong();

  /** Every consumer instance, killed ones included (their counters stay readable). */
  private final List<Messaging> consumerInstances = new CopyOnWriteArrayList<>();

  private ChaosM1(Config config, PrintStream out) {
    this.config = config;
    this.out = out;
  }

  /** Runs M1 once and returns what the checker found; progress goes to {@code out}. */
  public static ChaosResult run(Config config, PrintStream out) {
    ChaosM1 run = new ChaosM1(config, out);
    try {
      return run.run();
    } catch (Exception e) {
      throw new IllegalStateException("M1 run failed: " + e.getMessage(), e);
    } finally {
      run.closeAll();
    }
  }

  private ChaosResult run() throws Exception {
    long started = System.nanoTime();
    out.printf(
        "M1 seed=%d messages=%d keys=%d broker=%s database=%s%n",
        config.seed(), config.messages(), config.keys(), config.broker(), config.database());
    Random random = new Random(config.seed());
    ScratchDatabase.Instance scratch = config.database().open();
    closeables.add(scratch);
    // Writers, relays and consumers share a pool, as a service would.
    DataSource pool = ScratchDatabase.pooled(scratch.dataSource(), 16);
    closeables.add((AutoCloseable) pool);
    ScratchDatabase.Instance db =
        new ScratchDatabase.Instance(scratch.kind(), scratch.name(), pool);
    Schema.create(db.dataSource(), Schema.DEFAULT_PREFIX);
    db.execute(
        "CREATE TABLE ledger (applied BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            + " message_id VARCHAR(64), k VARCHAR(64), seq INT)");
    Channel<Event> events =
        Channel.event("m1." + Long.toHexString(config.seed()), Event.class)
            .withPartitionKey(Event::key);
    Inbox inbox = Inbox.builder(db.dataSource()).build();

    ChaosBroker broker = ChaosBroker.named(config.broker());
    closeables.add(broker);
    broker.start();
    Messaging producer = messaging("orders", broker.directTransport());
    // Writers only write rows; relays (started below) send them.
    Outbox writerOutbox = Outbox.builder(db.dataSource(), producer).build();
    List<FaultProxy> consumers = new ArrayList<>();
    consumers.add(consumer(broker, events, inbox));
    consumers.add(consumer(broker, events, inbox));
    broker.beforeFaults(producer);
    Relay[] relay = {relay(broker, db, "relay-1")};

    AtomicInteger written = new AtomicInteger();
    List<CompletableFuture<Void>> writing = new ArrayList<>();
    for (int w = 0; w < config.writers(); w++) {
      int writer = w;
      Random r = new Random(config.seed() + w);
      writing.add(
          CompletableFuture.runAsync(
              () -> write(db, writerOutbox, events, writer, r, written),
              runnable -> newThread("m1-writer-" + writer, runnable).start()));
    }

    // The fault plan, spread over the run.
    List<String> plan = new ArrayList<>();
    plan.addAll(Collections.nCopies(config.brokerKills(), "broker"));
    plan.addAll(Collections.nCopies(config.consumerKills(), "consumer"));
    plan.addAll(Collections.nCopies(config.relayKills(), "relay"));
    Collections.shuffle(plan, random);
    int brokerRestarts = 0;
    int consumerKills = 0;
    int relayKills = 0;
    long consumerConnectionsCut = 0;
    for (int i = 0; i < plan.size(); i++) {
      int target = config.messages() * (i + 1) / (plan.size() + 1);
      await().atMost(Duration.ofMinutes(5)).until(() -> written.get() >= target);
      switch (plan.get(i)) {
        case "broker" -> {
          long before = broker.reconnects(producer.transport());
          broker.killAndRestart();
          brokerRestarts++;
          // The next fault comes only once this one was felt (and the evidence counts it).
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> broker.recovered(producer.transport(), before));
        }
        case "consumer" -> {
          FaultProxy victim = consumers.remove(random.nextInt(consumers.size()));
          // Evidence: the victim had connected (it may be between reconnects after a broker kill).
          consumerConnectionsCut += Math.min(1, victim.accepted());
          victim.disable(); // connections cut, no reconnect, no goodbye
          consumers.add(consumer(broker, events, inbox));
          consumerKills++;
        }
        default -> {
          relay[0].kill();
          relay[0] = relay(broker, db, "relay-" + (relayKills + 2));
          relayKills++;
        }
      }
      out.printf("M1 fault %d: %s at %d written%n", i + 1, plan.get(i), written.get());
    }
    CompletableFuture.allOf(writing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.MINUTES);

    long committed = history.values().stream().filter(Attempt::committed).count();
    long[] lastReport = {System.nanoTime()};
    await()
        .atMost(Duration.ofMinutes(10))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              long applied = db.count("SELECT COUNT(DISTINCT message_id) FROM ledger");
              if (System.nanoTime() - lastReport[0] > TimeUnit.SECONDS.toNanos(5)) {
                lastReport[0] = System.nanoTime();
                out.printf(
                    "M1 draining: applied %d of %d; relay %s; dedup hits %d%n",
                    applied, committed, relay[0].outbox.metrics(), inbox.duplicates());
              }
              return applied >= committed;
            });
    // Let late redeliveries (duplicates in flight) arrive so the checker sees them too.
    long settled = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    await().atMost(Duration.ofSeconds(5)).until(() -> System.nanoTime() >= settled);

    Checked checked = check(db);
    long backlog = relay[0].outbox.metrics().backlog();
    long redeliveries = deliveries.values().stream().mapToLong(n -> n - 1).sum();
    long deadLettered = consumerInstances.stream().mapToLong(m -> m.metrics().deadLettered()).sum();
    return new ChaosResult(
        config,
        broker.name(),
        history.size(),
        committed,
        history.size() - committed,
        relayed.get() + relay[0].outbox.metrics().sent(),
        checked.applied,
        checked.lost,
        checked.duplicate,
        checked.ghost,
        checked.orderViolations,
        backlog,
        brokerRestarts,
        broker.killsFelt(producer.transport()),
        broker.killEvidence(),
        consumerKills,
        consumerConnectionsCut,
        relayKills,
        redeliveries,
        inbox.duplicates(),
        deadLettered,
        Duration.ofNanos(System.nanoTime() - started));
  }

  private void write(
      ScratchDatabase.Instance db,
      Outbox outbox,
      Channel<Event> events,
      int writer,
      Random random,
      AtomicInteger written) {
    int writers = config.writers();
    int perWriter = config.messages() / writers + (writer < config.messages() % writers ? 1 : 0);
    Map<String, Integer> nextSeq = new HashMap<>();
    for (int i = 0; i < perWriter; i++) {
      // Each writer owns its keys, so one key's sequence numbers are assigned in commit order.
      String key = "k" + ((i * writers + writer) % config.keys());
      int seq = nextSeq.merge(key, 1, Integer::sum);
      boolean commit = random.nextInt(100) >= 5;
      try (Connection c = db.dataSource().getConnection()) {
        c.setAutoCommit(false);
        String id = outbox.publish(c, events, new Event(key, seq)).id();
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

  /** A relay instance with a connection of its own behind a proxy, so that it can be killed. */
  private final class Relay {
    final FaultProxy proxy;
    final KillableDataSource database;
    final Messaging messaging;
    final Outbox outbox;

    Relay(FaultProxy proxy, KillableDataSource database, Messaging messaging, Outbox outbox) {
      this.proxy = proxy;
      this.database = database;
      this.messaging = messaging;
      this.outbox = outbox;
    }

    /** Cuts its connections, stops its thread; the lease stays taken until it runs out. */
    void kill() {
      proxy.disable();
      long sentBefore = outbox.metrics().sent();
      database.kill();
      outbox.close();
      relayed.addAndGet(sentBefore);
      try {
        messaging.close();
      } catch (RuntimeException e) {
        // a killed relay's connection is gone already
      }
    }
  }

  private Relay relay(ChaosBroker broker, ScratchDatabase.Instance db, String instance) {
    FaultProxy proxy = broker.proxy();
    closeables.add(proxy);
    Messaging m = messaging("orders", broker.transport(proxy.port()));
    KillableDataSource database = new KillableDataSource(db.dataSource());
    Outbox o =
        Outbox.builder(database, m)
            .instance(instance)
            .lease(Duration.ofSeconds(1))
            .pollInterval(Duration.ofMillis(20))
            .build()
            .start();
    closeables.add(o);
    return new Relay(proxy, database, m, o);
  }

  private Messaging messaging(String service, Transport transport) {
    Messaging m =
        Messaging.builder()
            .service(service)
            .transport(transport)
            .codecs(Codecs.of(JsonCodec.of()))
            .subscriptionOptions(
                // Parley's lanes and prefetch (8, 64), with short tiers for a bounded run.
                SubscriptionOptions.defaults()
                    .withRedelivery(
                        Redelivery.of(5, Duration.ofMillis(20), Duration.ofMillis(200))))
            .build();
    closeables.add(m);
    closeables.add(m.transport()); // Messaging does not close a transport it was handed
    return m;
  }

  /** A consumer instance behind a fault proxy of its own; returns the proxy (its kill switch). */
  private FaultProxy consumer(ChaosBroker broker, Channel<Event> events, Inbox inbox) {
    FaultProxy proxy = broker.proxy();
    closeables.add(proxy);
    Messaging m = messaging("ledger-service", broker.transport(proxy.port()));
    consumerInstances.add(m);
    var applyToLedger =
        inbox.handler(
            "ledger",
            (Event e, MessageContext ctx, Connection c) -> {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO ledger (message_id, k, seq) VALUES (?, ?, ?)")) {
                ps.setString(1, ctx.message().id());
                ps.setString(2, e.key());
                ps.setInt(3, e.seq());
                ps.executeUpdate();
              }
            });
    m.subscribe(
        events,
        "ledger",
        applyToLedger,
        m.defaultSubscriptionOptions()
            // Every delivery is counted before anything else runs (the outermost interceptor);
            // the inbox's dedup step then skips a redelivered duplicate before its retries.
            .withInterceptor(
                invocation -> {
                  deliveries.merge(invocation.message().id(), 1, Integer::sum);
                  return invocation.proceed();
                })
            .withInbox(inbox));
    return proxy;
  }

  private static final class Checked {
    long applied;
    long lost;
    long duplicate;
    long ghost;
    long orderViolations;
  }

  private Checked check(ScratchDatabase.Instance db) throws SQLException {
    Checked c = new Checked();
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
        if (seq != previous + 1 && c.orderViolations++ < 10) {
          out.printf("M1 order violation: %s seq %d after %d%n", key, seq, previous);
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

  private static Thread newThread(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private void closeAll() {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        // best effort at the end of a chaos run
      }
    }
  }
}
