package dev.parley.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.jdbc.Inbox;
import dev.parley.jdbc.Outbox;
import dev.parley.jdbc.Schema;
import dev.parley.jdbc.TransactionalHandler;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.MessageHandler;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.transport.rabbitmq.RabbitTransport;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The exactly-once path against what it costs without Parley, on the machine's PostgreSQL and
 * RabbitMQ: the outbox write path vs the bare business transaction, the inbox vs the same handler
 * in a bare transaction, and the end-to-end rate (outbox → relay → RabbitMQ → inbox, all durable).
 *
 * <pre>
 * ./mvnw -q -pl bench exec:exec -Dbench.args="exactly-once [transactions] [reps]"
 * </pre>
 */
public final class ExactlyOnceBench {

  record OrderCreated(String orderId, int total) {}

  private ExactlyOnceBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 3_000;
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    System.out.printf(Locale.ROOT, "transactions=%d reps=%d (one thread, one row each)%n", n, reps);
    Results r = run(n, reps, true, () -> {});
    for (Compared c : r.pairs()) {
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.0f | %.2f (%.2f–%.2f) |%n",
          c.name(),
          TransportBench.median(c.raw()),
          TransportBench.median(c.ours()),
          TransportBench.median(c.ratios()),
          Collections.min(c.ratios()),
          Collections.max(c.ratios()));
    }
    System.out.printf(
        Locale.ROOT,
        "  (batching inbox: %d transactions for %d messages)%n",
        r.batchingTransactions(),
        r.batchingHandled());
    System.out.printf(
        Locale.ROOT,
        "end to end, batched (4 writers, 10 events per transaction; relay; RabbitMQ quorum"
            + " queue; %d consumers into the batching inbox): %d messages, written at %.0f/s,"
            + " applied at %.0f/s, %d inbox transactions%n",
        BATCH,
        r.endToEnd().messages(),
        r.endToEnd().writeRate(),
        r.endToEnd().appliedRate(),
        r.endToEnd().transactions());
  }

  /** A pair's per-second rates, repetition by repetition (raw and Parley interleaved). */
  public record Compared(String name, List<Double> raw, List<Double> ours) {
    public List<Double> ratios() {
      List<Double> r = new ArrayList<>();
      for (int i = 0; i < raw.size(); i++) {
        r.add(ours.get(i) / raw.get(i));
      }
      return r;
    }
  }

  /** The batched end-to-end run: outbox → relay → RabbitMQ → batching inbox. */
  public record EndToEnd(int messages, double writeRate, double appliedRate, long transactions) {}

  /** Everything one run measured. */
  public record Results(
      List<Compared> pairs, long batchingTransactions, long batchingHandled, EndToEnd endToEnd) {}

  /**
   * Runs the pairs ({@code n} transactions per repetition; 4n for the batching and relay pairs) and
   * the batched end-to-end run (10n messages) in a schema of its own on the machine's PostgreSQL,
   * dropped afterwards, and on the machine's RabbitMQ. {@code step} is called after each run.
   */
  public static Results run(int n, int reps, boolean diagnostics, Runnable step) throws Exception {
    String schema = "parley_bench_" + UUID.randomUUID().toString().substring(0, 8);
    execute(pg(null), "CREATE SCHEMA " + schema);
    // A pool, as a service would have; both sides of every pair use it.
    HikariConfig pool = new HikariConfig();
    pool.setDataSource(pg(schema));
    pool.setMaximumPoolSize(16);
    List<Compared> pairs = new ArrayList<>();
    try (HikariDataSource ds = new HikariDataSource(pool)) {
      Schema.create(ds, Schema.DEFAULT_PREFIX);
      execute(ds, "CREATE TABLE orders (id VARCHAR(64) PRIMARY KEY, total INT)");
      execute(ds, "CREATE TABLE effects (id VARCHAR(64), total INT)");
      // Messaging does not close a transport it was given: close both.
      try (RabbitTransport transport =
              RabbitTransport.builder(URI.create("amqp://guest:guest@127.0.0.1:5672/")).build();
          Messaging messaging = messaging(transport)) {
        Channel<OrderCreated> events =
            Channel.event("bench.eo." + schema, OrderCreated.class)
                .withPartitionKey(OrderCreated::orderId);
        Outbox outbox = Outbox.builder(ds, messaging).build(); // not started: write path only
        Inbox inbox = Inbox.builder(ds).build();
        pairs.add(
            compare(
                "outbox write vs bare business transaction",
                () -> businessTransactions(ds, n, null, null),
                () -> businessTransactions(ds, n, outbox, events),
                reps,
                step));
        if (diagnostics) {
          Outbox quiet = Outbox.builder(ds, messaging).listenForCommits(false).build();
          pairs.add(
              compare(
                  "outbox write without the commit notification vs bare business transaction",
                  () -> businessTransactions(ds, n, null, null),
                  () -> businessTransactions(ds, n, quiet, events),
                  reps,
                  step));
        }
        MessageHandler<OrderCreated> viaInbox = inbox.handler("bench", effect());
        pairs.add(
            compare(
                "inbox vs the same handler in a bare transaction",
                () -> bareHandler(ds, n, messaging, events),
                () -> inboxHandler(viaInbox, n, messaging, events),
                reps,
                step));
        Inbox batching = Inbox.builder(ds).batchSize(BATCH).build();
        MessageHandler<OrderCreated> viaBatchingInbox = batching.batchingHandler("bench", effect());
        pairs.add(
            compare(
                "batching inbox (" + BATCH + " callers) vs raw JDBC, " + BATCH + " per transaction",
                () -> rawBatches(ds, n * 4),
                () -> concurrentCalls(viaBatchingInbox, n * 4, messaging, events),
                reps,
                step));
        Channel<OrderCreated> relayed = Channel.event("bench.relay." + schema, OrderCreated.class);
        try {
          messaging.subscribe(relayed, "drain", (e, ctx) -> {});
          pairs.add(
              compare(
                  "relay vs a hand-written SELECT … FOR UPDATE SKIP LOCKED loop (amqp-client,"
                      + " confirms)",
                  () -> skipLockedLoop(ds, messaging, relayed, n * 4),
                  () -> relay(ds, messaging, relayed, n * 4),
                  reps,
                  step));
        } finally {
          removeQueues(relayed.name(), "drain", 0);
        }
        if (diagnostics) {
          try {
            endToEnd(ds, messaging, events, inbox, n * 4);
          } finally {
            removeTopology(events.name());
          }
        }
        Channel<OrderCreated> unkeyed = Channel.event("bench.e2e." + schema, OrderCreated.class);
        EndToEnd e2e;
        try {
          e2e = endToEndBatched(ds, messaging, unkeyed, n * 10);
          step.run();
        } finally {
          removeQueues(unkeyed.name(), "bench", 0);
        }
        return new Results(pairs, batching.batches(), batching.handled(), e2e);
      }
    } finally {
      execute(pg(null), "DROP SCHEMA " + schema + " CASCADE");
    }
  }

  static final int BATCH = 32;

  interface Run {
    double perSecond() throws Exception;
  }

  static Compared compare(String name, Run raw, Run parley, int reps, Runnable step)
      throws Exception {
    raw.perSecond(); // warm-up
    parley.perSecond();
    List<Double> raws = new ArrayList<>();
    List<Double> ours = new ArrayList<>();
    for (int i = 0; i < reps; i++) {
      raws.add(raw.perSecond());
      step.run();
      ours.add(parley.perSecond());
      step.run();
    }
    return new Compared(name, raws, ours);
  }

  static double businessTransactions(
      DataSource ds, int n, Outbox outbox, Channel<OrderCreated> events) throws SQLException {
    long start = System.nanoTime();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders VALUES (?, ?)")) {
        for (int i = 0; i < n; i++) {
          String id = UUID.randomUUID().toString();
          ps.setString(1, id);
          ps.setInt(2, i);
          ps.executeUpdate();
          if (outbox != null) {
            outbox.publish(c, events, new OrderCreated(id, i));
          }
          c.commit();
        }
      }
    }
    return n * 1e9 / (System.nanoTime() - start);
  }

  static TransactionalHandler<OrderCreated> effect() {
    return (e, ctx, c) -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO effects VALUES (?, ?)")) {
        ps.setString(1, e.orderId());
        ps.setInt(2, e.total());
        ps.executeUpdate();
      }
    };
  }

  static double bareHandler(DataSource ds, int n, Messaging messaging, Channel<OrderCreated> events)
      throws Exception {
    TransactionalHandler<OrderCreated> handler = effect();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      OrderCreated e = new OrderCreated("o-" + i, i);
      MessageContext ctx = context(messaging.encode(events, e));
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        handler.handle(e, ctx, c);
        c.commit();
      }
    }
    return n * 1e9 / (System.nanoTime() - start);
  }

  static double inboxHandler(
      MessageHandler<OrderCreated> handler,
      int n,
      Messaging messaging,
      Channel<OrderCreated> events)
      throws Exception {
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      OrderCreated e = new OrderCreated("o-" + i, i);
      handler.handle(e, context(messaging.encode(events, e)));
    }
    return n * 1e9 / (System.nanoTime() - start);
  }

  /**
   * The raw side of the batching pair: one thread, {@link #BATCH} effects per transaction, each
   * effect its own statement as the handler's is.
   */
  static double rawBatches(DataSource ds, int n) throws SQLException {
    long start = System.nanoTime();
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO effects VALUES (?, ?)")) {
        for (int i = 0; i < n; i++) {
          ps.setString(1, "r-" + i);
          ps.setInt(2, i);
          ps.executeUpdate();
          if ((i + 1) % BATCH == 0 || i == n - 1) {
            c.commit();
          }
        }
      }
    }
    return n * 1e9 / (System.nanoTime() - start);
  }

  /** {@link #BATCH} threads calling one handler, as a subscription of that concurrency would. */
  static double concurrentCalls(
      MessageHandler<OrderCreated> handler,
      int n,
      Messaging messaging,
      Channel<OrderCreated> events)
      throws Exception {
    List<MessageContext> contexts = new ArrayList<>(n);
    List<OrderCreated> payloads = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      OrderCreated e = new OrderCreated("b-" + UUID.randomUUID(), i);
      payloads.add(e);
      contexts.add(context(messaging.encode(events, e)));
    }
    AtomicInteger next = new AtomicInteger();
    long start = System.nanoTime();
    List<CompletableFuture<Void>> callers = new ArrayList<>();
    for (int t = 0; t < BATCH; t++) {
      callers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                  try {
                    handler.handle(payloads.get(i), contexts.get(i));
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                }
              },
              runnable -> new Thread(runnable).start()));
    }
    CompletableFuture.allOf(callers.toArray(CompletableFuture[]::new)).join();
    return n * 1e9 / (System.nanoTime() - start);
  }

  /** Writes {@code n} outbox rows for {@code channel}, 100 per transaction, unsent. */
  static void fillOutbox(DataSource ds, Outbox writer, Channel<OrderCreated> channel, int n)
      throws SQLException {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        writer.publish(c, channel, new OrderCreated("o-" + i, i));
        if ((i + 1) % 100 == 0 || i == n - 1) {
          c.commit();
        }
      }
    }
  }

  /** Parley's relay draining {@code n} rows (rate from its start to an empty backlog). */
  static double relay(DataSource ds, Messaging messaging, Channel<OrderCreated> channel, int n)
      throws Exception {
    Outbox writer = Outbox.builder(ds, messaging).build();
    fillOutbox(ds, writer, channel, n);
    long start = System.nanoTime();
    try (Outbox relay = Outbox.builder(ds, messaging).build().start()) {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      // Polled every 10 ms: each look is a COUNT on the database the relay is using.
      while (relay.metrics().backlog() > 0) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("relay did not drain: " + relay.metrics());
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
      return n * 1e9 / (System.nanoTime() - start);
    }
  }

  /**
   * The hand-written relay most teams start with: in one transaction, lock a batch of unsent rows
   * with {@code FOR UPDATE SKIP LOCKED}, publish each with amqp-client to the channel's exchange,
   * wait for the confirms, mark the batch sent, commit.
   */
  static double skipLockedLoop(
      DataSource ds, Messaging messaging, Channel<OrderCreated> channel, int n) throws Exception {
    Outbox writer = Outbox.builder(ds, messaging).build(); // writes rows; its relay never starts
    fillOutbox(ds, writer, channel, n);
    com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
    f.setUri("amqp://guest:guest@127.0.0.1:5672/%2F");
    long start = System.nanoTime();
    int sent = 0;
    try (com.rabbitmq.client.Connection amqp = f.newConnection("bench-skip-locked");
        Connection c = ds.getConnection()) {
      com.rabbitmq.client.Channel ch = amqp.createChannel();
      ch.confirmSelect();
      c.setAutoCommit(false);
      try (PreparedStatement select =
              c.prepareStatement(
                  "SELECT seq, message_id, payload FROM parley_outbox WHERE sent_at IS NULL"
                      + " ORDER BY seq LIMIT 500 FOR UPDATE SKIP LOCKED");
          PreparedStatement mark =
              c.prepareStatement("UPDATE parley_outbox SET sent_at = now() WHERE seq = ?")) {
        while (sent < n) {
          List<Long> seqs = new ArrayList<>();
          try (var rs = select.executeQuery()) {
            while (rs.next()) {
              seqs.add(rs.getLong(1));
              com.rabbitmq.client.AMQP.BasicProperties props =
                  new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                      .messageId(rs.getString(2))
                      .contentType("application/json")
                      .deliveryMode(2)
                      .build();
              ch.basicPublish(channel.name(), "", true, props, rs.getBytes(3));
            }
          }
          ch.waitForConfirmsOrDie(30_000);
          for (Long seq : seqs) {
            mark.setLong(1, seq);
            mark.addBatch();
          }
          mark.executeBatch();
          c.commit();
          sent += seqs.size();
        }
      }
    }
    return n * 1e9 / (System.nanoTime() - start);
  }

  /** End to end with the batching inbox on an unkeyed channel, 32 consumers. */
  static EndToEnd endToEndBatched(
      DataSource ds, Messaging messaging, Channel<OrderCreated> events, int n) throws Exception {
    Inbox inbox = Inbox.builder(ds).batchSize(BATCH * 2).build();
    AtomicInteger applied = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    TransactionalHandler<OrderCreated> effect = effect();
    dev.parley.messaging.Subscription subscription =
        messaging.subscribe(
            events,
            "bench",
            inbox.batchingHandler(
                "bench-batched",
                (e, ctx, c) -> {
                  effect.handle(e, ctx, c);
                  if (applied.incrementAndGet() == n) {
                    done.countDown();
                  }
                }),
            SubscriptionOptions.defaults().withConcurrency(BATCH).withPrefetch(BATCH * 4));
    try (Outbox outbox = Outbox.builder(ds, messaging).build().start()) {
      long start = System.nanoTime();
      // 4 writers, 10 events per business transaction.
      List<CompletableFuture<Void>> writing = new ArrayList<>();
      for (int w = 0; w < 4; w++) {
        int writer = w;
        writing.add(
            CompletableFuture.runAsync(
                () -> {
                  try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    for (int i = writer; i < n; i += 4) {
                      outbox.publish(c, events, new OrderCreated("u" + i, i));
                      if ((i / 4) % 10 == 9) {
                        c.commit();
                      }
                    }
                    c.commit();
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                }));
      }
      CompletableFuture.allOf(writing.toArray(CompletableFuture[]::new)).join();
      double writeRate = n * 1e9 / (System.nanoTime() - start);
      if (!done.await(600, TimeUnit.SECONDS)) {
        throw new IllegalStateException("only " + applied.get() + " applied");
      }
      double endToEnd = n * 1e9 / (System.nanoTime() - start);
      subscription.close(); // before its queue goes
      return new EndToEnd(n, writeRate, endToEnd, inbox.batches());
    }
  }

  static void removeQueues(String channel, String group, int partitions) throws Exception {
    com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
    f.setUri("amqp://guest:guest@127.0.0.1:5672/%2F");
    try (com.rabbitmq.client.Connection c = f.newConnection("bench-cleanup")) {
      com.rabbitmq.client.Channel ch = c.createChannel();
      ch.queueDelete(channel + "." + group);
      ch.queueDelete(channel + "." + group + ".dlq");
      ch.exchangeDelete(channel);
    }
  }

  static void endToEnd(
      DataSource ds, Messaging messaging, Channel<OrderCreated> events, Inbox inbox, int n)
      throws Exception {
    AtomicInteger applied = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    TransactionalHandler<OrderCreated> effect = effect();
    messaging.subscribe(
        events,
        "bench",
        inbox.handler(
            "bench-e2e",
            (e, ctx, c) -> {
              effect.handle(e, ctx, c);
              if (applied.incrementAndGet() == n) {
                done.countDown();
              }
            }),
        SubscriptionOptions.defaults().withConcurrency(4).withPrefetch(50));
    try (Outbox outbox = Outbox.builder(ds, messaging).build().start()) {
      int writers = 4;
      long start = System.nanoTime();
      List<CompletableFuture<Void>> writing = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        writing.add(
            CompletableFuture.runAsync(
                () -> {
                  try (Connection c = ds.getConnection()) {
                    c.setAutoCommit(false);
                    for (int i = writer; i < n; i += writers) {
                      outbox.publish(c, events, new OrderCreated("k" + (i % 1000), i));
                      c.commit();
                    }
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                }));
      }
      CompletableFuture.allOf(writing.toArray(CompletableFuture[]::new)).join();
      double writeRate = n * 1e9 / (System.nanoTime() - start);
      if (!done.await(600, TimeUnit.SECONDS)) {
        throw new IllegalStateException("only " + applied.get() + " applied");
      }
      double endToEnd = n * 1e9 / (System.nanoTime() - start);
      System.out.printf(
          Locale.ROOT,
          "end to end (4 writers, 1 transaction per message; relay; RabbitMQ quorum queues, 8"
              + " partitions; 4 inbox consumers, 1 transaction per message): %d messages, written"
              + " at %.0f/s, applied at %.0f/s%n",
          n,
          writeRate,
          endToEnd);
    }
  }

  /** The bench's queues and exchanges on the shared RabbitMQ go when it ends. */
  static void removeTopology(String channel) throws Exception {
    com.rabbitmq.client.ConnectionFactory f = new com.rabbitmq.client.ConnectionFactory();
    f.setUri("amqp://guest:guest@127.0.0.1:5672/%2F");
    try (com.rabbitmq.client.Connection c = f.newConnection("bench-cleanup")) {
      com.rabbitmq.client.Channel ch = c.createChannel();
      for (int p = 0; p < 8; p++) {
        ch.queueDelete(channel + ".bench.p" + p);
      }
      ch.queueDelete(channel + ".bench.dlq");
      ch.exchangeDelete(channel + ".bench");
      ch.exchangeDelete(channel);
    }
  }

  static MessageContext context(Message m) {
    return new MessageContext() {
      @Override
      public Message message() {
        return m;
      }

      @Override
      public int attempt() {
        return 1;
      }

      @Override
      public Optional<Instant> deadline() {
        return Optional.empty();
      }

      @Override
      public Optional<String> partitionKey() {
        return m.header("parley-partition-key");
      }
    };
  }

  static Messaging messaging(RabbitTransport transport) {
    return Messaging.builder()
        .service("bench")
        .transport(transport)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  static PGSimpleDataSource pg(String schema) {
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setServerNames(new String[] {"127.0.0.1"});
    pg.setPortNumbers(new int[] {5432});
    pg.setDatabaseName("test");
    pg.setUser("postgres");
    if (schema != null) {
      pg.setCurrentSchema(schema);
    }
    return pg;
  }

  static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
