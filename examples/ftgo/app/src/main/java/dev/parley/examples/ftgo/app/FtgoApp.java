package dev.parley.examples.ftgo.app;

import static dev.parley.examples.ftgo.common.Contracts.PLACE_ORDER;

import dev.parley.error.ParleyException;
import dev.parley.examples.ftgo.accounting.AccountingService;
import dev.parley.examples.ftgo.common.Contracts.OrderView;
import dev.parley.examples.ftgo.common.Contracts.PlaceOrder;
import dev.parley.examples.ftgo.common.Contracts.Step;
import dev.parley.examples.ftgo.common.FtgoConfig;
import dev.parley.examples.ftgo.common.ServiceRuntime;
import dev.parley.examples.ftgo.consumer.ConsumerService;
import dev.parley.examples.ftgo.kitchen.KitchenService;
import dev.parley.examples.ftgo.order.OrderService;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The whole FTGO system in one JVM on embedded defaults (the embedded broker, an H2 database per
 * service): the Consumer, Accounting, Kitchen and Order services, each with its own runtime,
 * talking only through REST, gRPC and the broker.
 *
 * <pre>
 * ./mvnw -q -pl examples/ftgo/app -am install -DskipTests
 * ./mvnw -q -pl examples/ftgo/app exec:java                                  # the page on :8080
 * ./mvnw -q -pl examples/ftgo/app exec:java -Dexec.args="--scenario 1000"   # a summary, then exit
 * </pre>
 */
public final class FtgoApp implements AutoCloseable {

  private final List<AutoCloseable> closeables = new ArrayList<>();
  final List<ServiceRuntime> runtimes = new ArrayList<>();
  final ConsumerService consumer;
  final AccountingService accounting;
  volatile ServiceRuntime kitchenRuntime;
  volatile KitchenService kitchen;
  final OrderService order;

  private FtgoApp(int orderPort) {
    ServiceRuntime consumerRuntime = keep(ServiceRuntime.start("consumer"));
    consumer = keep(ConsumerService.start(consumerRuntime, 0));
    ServiceRuntime accountingRuntime = keep(ServiceRuntime.start("accounting"));
    accounting = keep(AccountingService.start(accountingRuntime, 0));
    startKitchen();
    ServiceRuntime orderRuntime = keep(ServiceRuntime.start("order"));
    order =
        keep(
            OrderService.start(
                orderRuntime,
                orderPort,
                Endpoints.of("127.0.0.1:" + consumer.port()),
                Endpoints.of("127.0.0.1:" + accounting.port())));
  }

  /**
   * Stops the Kitchen service as a crash would look from outside: its consumers and its broker
   * connection go away; commands for it wait in the broker. Its database survives.
   */
  synchronized void stopKitchen() {
    kitchen.close();
    kitchenRuntime.close();
    kitchen = null;
  }

  /** Starts (again) the Kitchen service on its database. */
  synchronized void startKitchen() {
    kitchenRuntime = ServiceRuntime.start("kitchen");
    kitchen = KitchenService.start(kitchenRuntime);
  }

  /** The runtimes of the four services, the Kitchen's current one included. */
  List<ServiceRuntime> allRuntimes() {
    List<ServiceRuntime> all = new ArrayList<>(runtimes);
    all.add(kitchenRuntime);
    return all;
  }

  /** Starts the four services; the Order service (and the page) on {@code orderPort}. */
  public static FtgoApp start(int orderPort) {
    return new FtgoApp(orderPort);
  }

  private <T extends AutoCloseable> T keep(T closeable) {
    closeables.add(closeable);
    if (closeable instanceof ServiceRuntime r) {
      runtimes.add(r);
    }
    return closeable;
  }

  public int port() {
    return order.port();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (kitchen != null) {
        stopKitchen();
      }
    }
    for (int i = closeables.size() - 1; i >= 0; i--) {
      try {
        closeables.get(i).close();
      } catch (Exception e) {
        System.err.println("closing " + closeables.get(i) + ": " + e);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    try (FtgoApp app = start(options.scenario > 0 ? 0 : options.port)) {
      if (options.scenario > 0) {
        Scenario.Summary summary =
            new Scenario(app, options.failureRate, options.kitchenOutage, options.seed, System.out)
                .run(options.scenario);
        summary.print(System.out);
        System.exit(summary.clean() ? 0 : 1);
      }
      System.out.println(
          "FTGO is running: open http://127.0.0.1:" + app.port() + "/ (Ctrl-C stops it)");
      new CountDownLatch(1).await();
    }
  }

  /** Command-line options. */
  record Options(int port, int scenario, double failureRate, Duration kitchenOutage, long seed) {
    static Options parse(String[] args) {
      String[] split = args.length == 1 ? args[0].trim().split("\\s+") : args;
      int port = FtgoConfig.port("order", 8080);
      int scenario = 0;
      double rate = 0.2;
      Duration outage = Duration.ofSeconds(3);
      long seed = System.nanoTime();
      for (int i = 0; i < split.length; i++) {
        switch (split[i]) {
          case "--scenario" -> scenario = Integer.parseInt(split[++i]);
          case "--failure-rate" -> rate = Double.parseDouble(split[++i]);
          case "--kitchen-outage-ms" -> outage = Duration.ofMillis(Long.parseLong(split[++i]));
          case "--port" -> port = Integer.parseInt(split[++i]);
          case "--seed" -> seed = Long.parseLong(split[++i]);
          case "" -> {}
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + split[i]
                      + " (expected: --scenario N, --failure-rate R, --kitchen-outage-ms MS,"
                      + " --port P, --seed S)");
        }
      }
      return new Options(port, scenario, rate, outage, seed);
    }
  }

  /**
   * N orders through the Order service's REST API, some made to fail (unknown consumer, declined
   * card, a dish the kitchen refuses) at the failure rate, with the Kitchen down for a while in the
   * middle; then a check that every order ended as expected and every consumer saw its events in
   * order.
   */
  static final class Scenario {
    private final FtgoApp app;
    private final double failureRate;
    private final Duration kitchenOutage;
    private final long seed;
    private final PrintStream out;

    Scenario(FtgoApp app, double failureRate, Duration kitchenOutage, long seed, PrintStream out) {
      this.app = app;
      this.failureRate = failureRate;
      this.kitchenOutage = kitchenOutage;
      this.seed = seed;
      this.out = out;
    }

    Summary run(int n) throws InterruptedException {
      Random random = new Random(seed);
      Map<String, String> expected = new ConcurrentHashMap<>();
      AtomicInteger placeFailures = new AtomicInteger();
      long finishedBefore = app.consumer.ordersFinished(); // orders of earlier runs in this JVM
      long start = System.nanoTime();
      out.printf(
          Locale.ROOT,
          "scenario: %d orders, failure rate %.2f, kitchen down %d ms in the middle, seed %d%n",
          n,
          failureRate,
          kitchenOutage.toMillis(),
          seed);
      Semaphore window = new Semaphore(8);
      CompletableFuture<Void> outage = null;
      try (RpcClient client =
          RpcClient.builder()
              .binding(Binding.REST)
              .endpoints(Endpoints.of("127.0.0.1:" + app.port()))
              .build()) {
        for (int i = 0; i < n; i++) {
          if (i == n / 3 && !kitchenOutage.isZero()) {
            app.stopKitchen();
            out.println("  kitchen down");
            outage =
                CompletableFuture.runAsync(
                    () -> {
                      app.startKitchen();
                      out.println("  kitchen back");
                    },
                    CompletableFuture.delayedExecutor(
                        kitchenOutage.toMillis(), TimeUnit.MILLISECONDS));
          }
          Failure failure = Failure.pick(random, failureRate);
          if (!window.tryAcquire(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no order placed for 60 s");
          }
          client
              .callAsync(PLACE_ORDER, failure.order(i))
              .whenComplete(
                  (view, e) -> {
                    if (e != null) {
                      placeFailures.incrementAndGet();
                    } else {
                      expected.put(view.orderId(), failure.expectedState());
                    }
                    window.release();
                  });
          if ((i + 1) % Math.max(1, n / 10) == 0) {
            out.printf(
                Locale.ROOT,
                "  placed %d/%d, finished %d (%.1f s)%n",
                i + 1,
                n,
                app.consumer.ordersFinished(),
                (System.nanoTime() - start) / 1e9);
          }
        }
        if (!window.tryAcquire(8, 60, TimeUnit.SECONDS)) {
          throw new IllegalStateException("orders still being placed after 60 s");
        }
        if (outage != null) {
          outage.join();
        }
        return awaitAndSummarize(n, expected, placeFailures.get(), start, finishedBefore, client);
      }
    }

    private Summary awaitAndSummarize(
        int n,
        Map<String, String> expected,
        int placeFailures,
        long start,
        long finishedBefore,
        RpcClient client)
        throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (app.consumer.ordersFinished() - finishedBefore < expected.size()
          && System.nanoTime() < deadline) {
        out.printf(
            Locale.ROOT,
            "  waiting: %d/%d orders finished (%.1f s)%n",
            app.consumer.ordersFinished() - finishedBefore,
            expected.size(),
            (System.nanoTime() - start) / 1e9);
        new CountDownLatch(1).await(1, TimeUnit.SECONDS);
      }
      return summarize(
          n, expected, placeFailures, finishedBefore, (System.nanoTime() - start) / 1e9, client);
    }

    private Summary summarize(
        int n,
        Map<String, String> expected,
        int placeFailures,
        long finishedBefore,
        double seconds,
        RpcClient client) {
      Map<String, Long> states = new java.util.TreeMap<>();
      int mismatched = 0;
      for (Map.Entry<String, String> e : expected.entrySet()) {
        // one query per order is fine at these sizes
        String state = stateOf(client, e.getKey());
        states.merge(state, 1L, Long::sum);
        if (!e.getValue().equals(state)) {
          mismatched++;
        }
      }
      List<Step> steps = app.order.allSteps();
      long finished = app.consumer.ordersFinished() - finishedBefore;
      long lost = expected.size() - finished + placeFailures;
      return new Summary(
          n,
          states.getOrDefault("APPROVED", 0L),
          states.getOrDefault("REJECTED", 0L),
          expected.values().stream().filter("APPROVED"::equals).count(),
          mismatched,
          lost,
          app.consumer.orderViolations(),
          app.allRuntimes().stream().mapToLong(r -> r.inbox().duplicates()).sum(),
          latencies(steps, "REST"),
          latencies(steps, "gRPC"),
          latencies(steps, "command reply"),
          Latencies.of(app.consumer.eventLagMillis()),
          app.kitchen.tickets(),
          app.accounting.authorizations(),
          outboxes(),
          seconds);
    }

    private Map<String, String> outboxes() {
      Map<String, String> m = new java.util.TreeMap<>();
      for (ServiceRuntime r : app.allRuntimes()) {
        m.put(
            r.service(),
            r.outbox().metrics()
                + " "
                + r.messaging().metrics()
                + " inbox handled "
                + r.inbox().handled());
      }
      return m;
    }

    private static String stateOf(RpcClient client, String orderId) {
      try {
        OrderView v =
            client.call(
                dev.parley.examples.ftgo.common.Contracts.GET_ORDER,
                new dev.parley.examples.ftgo.common.Contracts.GetOrder(orderId));
        return v.state();
      } catch (ParleyException e) {
        return "missing";
      }
    }

    private static Latencies latencies(List<Step> steps, String style) {
      return Latencies.of(
          steps.stream().filter(s -> s.style().equals(style)).map(Step::millis).toList());
    }

    /** How an order is made to fail, or not. */
    enum Failure {
      NONE,
      UNKNOWN_CONSUMER,
      DECLINED_CARD,
      KITCHEN_REFUSES;

      static Failure pick(Random random, double rate) {
        if (random.nextDouble() >= rate) {
          return NONE;
        }
        return values()[1 + random.nextInt(3)];
      }

      PlaceOrder order(int i) {
        String consumer = this == UNKNOWN_CONSUMER ? "dave" : "alice";
        String card =
            this == DECLINED_CARD ? AccountingService.DECLINED_CARD : "4111-1111-1111-1111";
        String dish =
            this == KITCHEN_REFUSES
                ? KitchenService.UNAVAILABLE_DISH
                : List.of("biryani", "dal", "naan", "samosa").get(i % 4);
        return new PlaceOrder(consumer, "Ajanta", dish, 1 + i % 3, card);
      }

      String expectedState() {
        return this == NONE ? "APPROVED" : "REJECTED";
      }
    }

    /** Count, p50 and p99 in milliseconds. */
    record Latencies(int count, long p50, long p99) {
      static Latencies of(List<Long> millis) {
        if (millis.isEmpty()) {
          return new Latencies(0, 0, 0);
        }
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        return new Latencies(
            sorted.size(),
            sorted.get(sorted.size() / 2),
            sorted.get(Math.min(sorted.size() - 1, sorted.size() * 99 / 100)));
      }
    }

    /** The scenario's outcome. */
    record Summary(
        int placed,
        long approved,
        long rejected,
        long expectedApproved,
        int mismatched,
        long lost,
        long orderViolations,
        long duplicatesSuppressed,
        Latencies rest,
        Latencies grpc,
        Latencies commandReply,
        Latencies events,
        Map<String, Long> tickets,
        Map<String, Long> authorizations,
        Map<String, String> outboxes,
        double seconds) {

      boolean clean() {
        return lost == 0 && orderViolations == 0 && mismatched == 0;
      }

      void print(PrintStream out) {
        out.println();
        out.println("| what | value |");
        out.println("|---|---|");
        out.printf(Locale.ROOT, "| orders placed | %d in %.1f s |%n", placed, seconds);
        out.printf(
            Locale.ROOT,
            "| approved / rejected | %d / %d (expected %d approved) |%n",
            approved,
            rejected,
            expectedApproved);
        out.printf(Locale.ROOT, "| ended otherwise than expected | %d |%n", mismatched);
        out.printf(Locale.ROOT, "| lost orders (must be 0) | %d |%n", lost);
        out.printf(Locale.ROOT, "| order violations (must be 0) | %d |%n", orderViolations);
        out.printf(Locale.ROOT, "| duplicates suppressed | %d |%n", duplicatesSuppressed);
        out.println();
        out.println("| style | calls | p50 ms | p99 ms |");
        out.println("|---|---|---|---|");
        row(out, "REST (validate consumer)", rest);
        row(out, "gRPC (authorize card)", grpc);
        row(out, "command + reply via broker (kitchen ticket)", commandReply);
        row(out, "events via outbox + broker (publish → consumer)", events);
        out.println();
        out.println("kitchen tickets: " + tickets + "; authorizations: " + authorizations);
        out.println("outboxes: " + outboxes);
        out.println(clean() ? "CLEAN" : "NOT CLEAN");
      }

      private static void row(PrintStream out, String name, Latencies l) {
        out.printf(Locale.ROOT, "| %s | %d | %d | %d |%n", name, l.count(), l.p50(), l.p99());
      }
    }
  }
}
