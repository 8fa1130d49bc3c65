package dev.parley.bench.lab;

import static dev.parley.bench.lab.Report.f;
import static dev.parley.bench.lab.Report.row;
import static dev.parley.bench.lab.Report.spread;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.bench.ExactlyOnceBench;
import dev.parley.bench.ExactlyOnceBench.Compared;
import dev.parley.bench.PolicyBench;
import dev.parley.bench.lab.Interleaved.Runs;
import dev.parley.bench.lab.Measure.Latency;
import dev.parley.bench.lab.Measure.Throughput;
import dev.parley.bench.lab.PairSection.Load;
import dev.parley.bench.lab.PairSection.Measured;
import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.policy.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The IPC lab: the seed's trade-offs measured side by side with raw baselines, written to {@code
 * lab.md} and PNG charts. Needs the machine's RabbitMQ (5672, STOMP plugin on 61613) and PostgreSQL
 * (5432, database {@code test}); starts its own embedded Artemis.
 *
 * <pre>
 * bench/lab            # quick mode, about three minutes
 * bench/lab --full     # the full run
 * </pre>
 */
@Command(
    name = "lab",
    mixinStandardHelpOptions = true,
    description = "Measures Parley beside raw clients and writes lab.md with charts.")
public final class Lab implements Callable<Integer> {

  /** This run's id: part of every queue, exchange and schema name it makes. */
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);

  @Option(names = "--full", description = "the full run (longer loads, 7 repetitions)")
  boolean full;

  @Option(
      names = "--out",
      description = "where lab.md and lab/*.png go (default: ${DEFAULT-VALUE})",
      defaultValue = "docs/benchmarks")
  Path out;

  @Option(
      names = "--rabbitmq",
      description = "RabbitMQ AMQP URI (default: ${DEFAULT-VALUE})",
      defaultValue = "amqp://guest:guest@127.0.0.1:5672/")
  String rabbitUri;

  @Option(names = "--stomp-port", defaultValue = "61613", description = "RabbitMQ STOMP port")
  int stompPort;

  @Option(
      names = "--jdbc",
      defaultValue = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
      description = "PostgreSQL for the outbox, inbox and exactly-once rows")
  String jdbc;

  @Option(
      names = "--only",
      split = ",",
      description = "sections to run: formats, sync, events, availability, exactly-once")
  List<String> only;

  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    // before any logger exists: the broker's audit log would otherwise print every message
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.log.io.micrometer", "error");
    System.exit(new CommandLine(new Lab()).execute(args));
  }

  private boolean wanted(String section) {
    return only == null || only.contains(section);
  }

  @Override
  public Integer call() throws Exception {
    Config c = full ? Config.full() : Config.quick();
    long started = System.nanoTime();
    Report report = new Report(out);
    System.err.printf(
        "lab: %s mode, run %s; writing %s%n",
        c.mode(), RUN, out.resolve("lab.md").toAbsolutePath());
    Path data = Files.createTempDirectory("parley-lab-");
    List<String> rabbitQueues = java.util.Collections.synchronizedList(new ArrayList<>());
    List<String> rabbitExchanges = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicBoolean cleaned =
        new java.util.concurrent.atomic.AtomicBoolean();
    Runnable cleanup =
        () -> {
          if (cleaned.compareAndSet(false, true)) {
            Cleanup.rabbit(rabbitUri, List.copyOf(rabbitQueues), List.copyOf(rabbitExchanges));
            Cleanup.delete(data);
          }
        };
    // Ctrl-C: the shared RabbitMQ keeps no queues of this run (the schemas drop in the sections)
    Thread hook = new Thread(cleanup, "lab-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try (EmbeddedBroker artemis =
        EmbeddedBroker.builder().dataDirectory(data).ephemeralPorts().build().start()) {
      if (wanted("formats")) {
        section("formats", report, () -> Formats.run(c, report));
      }
      if (wanted("sync")) {
        section("sync", report, () -> sync(artemis, c, report, rabbitQueues));
      }
      if (wanted("events")) {
        section("events", report, () -> events(artemis, c, report, rabbitQueues, rabbitExchanges));
      }
      if (wanted("availability")) {
        section("availability", report, () -> Availability.run(artemis, c, report));
      }
      if (wanted("exactly-once")) {
        section("exactly-once", report, () -> exactlyOnce(c, report));
      }
    } finally {
      cleanup.run();
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    double minutes = (System.nanoTime() - started) / 60e9;
    Path file = report.write(header(c, minutes));
    long missed = report.goals().stream().filter(g -> !g.met()).count();
    System.err.printf(
        "lab: %d goals measured, %d missed; %.1f min; wrote %s%n",
        report.goals().size(), missed, minutes, file.toAbsolutePath());
    return failures == 0 ? 0 : 1;
  }

  interface Section {
    void run() throws Exception;
  }

  private int failures;

  /** Runs a section; one that fails is reported as such and the lab goes on with the next. */
  private void section(String name, Report report, Section section) {
    try {
      section.run();
    } catch (Exception | AssertionError e) {
      failures++;
      e.printStackTrace();
      java.io.StringWriter trace = new java.io.StringWriter();
      e.printStackTrace(new java.io.PrintWriter(trace));
      report.section(
          "## Section "
              + name
              + " FAILED\n\n```\n"
              + trace.toString().lines().limit(15).reduce("", (a, b) -> a + b + "\n")
              + "```\n");
    }
  }

  private void sync(EmbeddedBroker artemis, Config c, Report report, List<String> rabbitQueues)
      throws Exception {
    try (RequestReply rr = new RequestReply(RUN, artemis, rabbitUri, "127.0.0.1", stompPort)) {
      rabbitQueues.addAll(rr.rabbitQueues());
      Load load = new Load("sync vs async", "calls", c.calls(), c.window(), true, "sync-async");
      List<Measured> m = PairSection.run(rr.pairs(), load, c);
      report.section(syncIntro(c) + PairSection.tables(m, load, report));
      Map<String, Runs<Throughput>> wire = new LinkedHashMap<>();
      for (Pair p : rr.wireCostPairs()) {
        wire.put(p.name(), wireCost(p, "request/reply wire cost", c.calls(), c.window(), c));
      }
      report.section(requestReplyWireSection(wire, m, c));
      PairSection.requestReplyGoals(m, report, wire);
      PairSection.openLoopGoals(m, "sync vs async", report);
      policy(rr.policyPair(), c, report);
      List<Pair> handOff = rr.handOffPairs();
      rabbitQueues.addAll(rr.handOffQueues());
      handOff(handOff, c, report);
    }
  }

  /**
   * The responder's hand-off measured alone: a blocking handler ({@code serve}, run on the
   * subscription's handler pool) beside an asynchronous one ({@code serveAsync}, run on the
   * transport's thread), the same caller, interleaved. No goal: it says how much of a request/reply
   * gap the hop to the handler pool is, in this run.
   */
  private static void handOff(List<Pair> pairs, Config c, Report report) throws Exception {
    StringBuilder md =
        new StringBuilder(
            "## The responder's hand-off\n\n"
                + f(
                    "Parley beside Parley on each broker: the same caller and echo operation, the"
                        + " responder's handler blocking (`serve`, Parley's default: the"
                        + " transport's thread hands each request to the subscription's handler"
                        + " pool, one thread wake-up per request) or asynchronous (`serveAsync`:"
                        + " run on the transport's thread, no hand-off). %d repetitions"
                        + " interleaved, as above.\n\n",
                    c.reps())
                + "| binding | one in flight p50 µs, blocking / async | Δ p50 µs (min–max) |"
                + " calls/s at "
                + c.window()
                + " in flight, blocking / async | ratio async/blocking (min–max) | context"
                + " switches per call, blocking / async |\n|---|---|---|---|---|---|\n");
    try (Progress progress = new Progress("hand-off", (long) pairs.size() * c.reps() * 4)) {
      for (Pair p : pairs) {
        progress.message(p.name());
        Runs<Throughput> t =
            Interleaved.throughput(
                p.raw(), p.parley(), c.calls(), c.window(), c.reps(), c.warmUp(), progress);
        Runs<Double> one =
            Interleaved.oneInFlight(p.raw(), p.parley(), c.oneInFlightCalls(), c.reps(), progress);
        md.append(
            row(
                p.name(),
                f("%.0f / %.0f", one.rawMedian(x -> x), one.oursMedian(x -> x)),
                spread(one.differences(x -> x), "%+.0f"),
                f(
                    "%,.0f / %,.0f",
                    t.rawMedian(Throughput::perSecond), t.oursMedian(Throughput::perSecond)),
                spread(t.ratios(Throughput::perSecond), "%.2f"),
                f(
                    "%.1f / %.1f",
                    t.rawMedian(Throughput::switchesPerOp),
                    t.oursMedian(Throughput::switchesPerOp))));
      }
    }
    report.section(md.toString());
  }

  private void events(
      EmbeddedBroker artemis,
      Config c,
      Report report,
      List<String> rabbitQueues,
      List<String> rabbitExchanges)
      throws Exception {
    String schema = "parley_lab_" + RUN;
    execute("CREATE SCHEMA IF NOT EXISTS " + schema);
    try (HikariDataSource ds = pool(schema);
        Events events =
            new Events(
                RUN, artemis, rabbitUri, "127.0.0.1", stompPort, rabbitQueues, rabbitExchanges)) {
      List<Pair> pairs = new ArrayList<>(events.pairs());
      pairs.addAll(events.exactlyOncePairs(ds));
      pairs.add(events.dedup(ds, rabbitUri));
      Load load =
          new Load("one-way events", "events", c.events(), c.eventWindow(), false, "events");
      List<Measured> m = PairSection.run(pairs, load, c);
      report.section(eventsIntro(c) + PairSection.tables(m, load, report));
      Runs<Throughput> stompWire =
          wireCost(events.stompWireCost("127.0.0.1", stompPort), "STOMP wire cost", c);
      Runs<Throughput> amqpWire =
          wireCost(events.amqpWireCost(artemis.amqpUri()), "AMQP 1.0 wire cost", c);
      report.section(wireSection(stompWire, amqpWire, m, c));
      eventGoals(m, report, stompWire, amqpWire);
      PairSection.openLoopGoals(m, "one-way events", report);
    } finally {
      execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  // ---- the policy pipeline ----------------------------------------------------------------------

  private static void policy(Pair endToEnd, Config c, Report report) throws Exception {
    CompletableFuture<String> done = CompletableFuture.completedFuture("ok");
    Policy full = PolicyBench.deadlineRateLimitBreaker("lab-micro");
    Formats.Op raw = done::join;
    Formats.Op ours = () -> full.execute(Policy.Call.IDEMPOTENT, d -> done).join();
    int n = c.codecOps() * 5;
    Runs<Formats.Cost> micro;
    Runs<Throughput> e2e;
    try (Progress progress = new Progress("policy", c.reps() * 4L)) {
      Formats.cost(raw, n);
      Formats.cost(ours, n);
      micro =
          Interleaved.run(
              () -> Formats.cost(raw, n), () -> Formats.cost(ours, n), c.reps(), progress);
      e2e =
          Interleaved.throughput(
              endToEnd.raw(),
              endToEnd.parley(),
              c.calls(),
              c.window(),
              c.reps(),
              c.warmUp(),
              progress);
    }
    List<Double> nanos = micro.differences(Formats.Cost::nanos);
    List<Double> bytes = micro.differences(Formats.Cost::bytes);
    List<Double> ratios = e2e.ratios(Throughput::perSecond);
    report.goal(
        "resilience pipeline (deadline + rate limit + breaker) vs undecorated call, per call",
        "≤ 1 µs and ≤ 200 B",
        spread(nanos, "%+.0f ns") + ", " + spread(bytes, "%+.0f B"),
        Measure.median(nanos) <= 1000 && Measure.median(bytes) <= 200,
        Causes.POLICY);
    report.goal(
        "resilience pipeline vs undecorated call, REST end to end",
        "≥ 0.97",
        spread(ratios, "%.2f"),
        Measure.median(ratios) >= 0.97,
        Causes.POLICY);
    report.section(
        "## The policy pipeline\n\n"
            + f(
                "Per call around a call that completes at once (%,d calls per repetition, %d"
                    + " repetitions interleaved): %s ns and %s B more than the undecorated call."
                    + " End to end, REST calls through the policy vs the same calls without (%,d"
                    + " calls, %d in flight): %s of the throughput. (JMH figures: rpc.md.)\n",
                n,
                c.reps(),
                spread(nanos, "%+.0f"),
                spread(bytes, "%+.0f"),
                c.calls(),
                c.window(),
                spread(ratios, "%.2f")));
  }

  // ---- one-way events ---------------------------------------------------------------------------

  /** A raw client beside itself sending Parley's wire messages: throughput only, interleaved. */
  private static Runs<Throughput> wireCost(Pair p, String label, Config c) throws Exception {
    return wireCost(p, label, c.events(), c.eventWindow(), c);
  }

  private static Runs<Throughput> wireCost(Pair p, String label, int n, int window, Config c)
      throws Exception {
    try (Progress progress = new Progress(label, (long) c.reps() * 2)) {
      progress.message(p.name());
      return Interleaved.throughput(p.raw(), p.parley(), n, window, c.reps(), c.warmUp(), progress);
    }
  }

  /** The section of the events wire-cost pairs. */
  private static final String EVENTS_WIRE = "What Parley's wire contract costs the broker";

  /** The section of the request/reply wire-cost pairs: the ceilings of the rows above. */
  static final String REQUEST_REPLY_WIRE = "What Parley's wire contract costs request/reply";

  /**
   * What Parley's wire contract costs request/reply on each broker, measured without Parley: the
   * ceiling it leaves the request/reply pairs, beside what Parley reached.
   */
  private static String requestReplyWireSection(
      Map<String, Runs<Throughput>> wire, List<Measured> all, Config c) {
    StringBuilder md =
        new StringBuilder(
            "## "
                + REQUEST_REPLY_WIRE
                + "\n\n"
                + f(
                    "No goal: each raw request/reply client of the section above beside itself"
                        + " sending what the broker gets from Parley for a request and its reply,"
                        + " the client, codec and threads staying the raw client's (ids as long as"
                        + " Parley's, a 22-character reply token). AMQP 1.0 (embedded Artemis): a"
                        + " request's seven application properties (`parley-id`, `parley-type`,"
                        + " `content-type`, `parley-source`, `parley-reply-to`,"
                        + " `parley-reply-token`, `parley-deadline`), the content type also native"
                        + " and the deadline as the time to live; a reply's four (`parley-id`,"
                        + " `parley-correlation-id`, `parley-reply-token`, `content-type`) to a"
                        + " `parley.reply.…` queue. RabbitMQ: the command queue with Parley's"
                        + " arguments, a request's message id, type and app id and a headers"
                        + " table of the reply token and the deadline; a transient reply with"
                        + " its own message id, the request's id as correlation id and the token"
                        + " in a table (docs/wire.md §7). STOMP (RabbitMQ): ten lines on a"
                        + " request against six, six on a reply against four (§8). A ratio is"
                        + " the most Parley's request/reply can reach on that broker with those"
                        + " messages. %,d calls per repetition, %d in flight, %d repetitions"
                        + " interleaved, after a warm-up as above.\n\n",
                    c.calls(), c.window(), c.reps())
                + "| pair | raw calls/s | with Parley's wire calls/s | ratio (min–max) |"
                + " Parley's request/reply, ratio to raw in this run |\n|---|---:|---:|---|---|\n");
    wire.forEach((name, runs) -> md.append(wireRow(name, runs, parleyRatio(all, name::equals))));
    return md.toString();
  }

  /**
   * What Parley's wire contract costs the brokers, measured without Parley: the ceiling it leaves
   * the STOMP and AMQP 1.0 events pairs, beside what Parley reached.
   */
  private static String wireSection(
      Runs<Throughput> stomp, Runs<Throughput> amqp, List<Measured> all, Config c) {
    StringBuilder md =
        new StringBuilder(
            "## "
                + EVENTS_WIRE
                + "\n\n"
                + f(
                    "No goal: each raw client of the events section beside itself sending what the"
                        + " broker gets from Parley for an event, the client, codec and threads"
                        + " staying the raw client's. STOMP (RabbitMQ): the same destination"
                        + " (amq.topic into the group's queue, bound with `<channel>.*`) and the"
                        + " three header lines Parley's wire contract adds (`amqp-message-id`,"
                        + " `type` and `app-id`, which the plugin makes properties; docs/wire.md"
                        + " §8.3)."
                        + " AMQP 1.0 (embedded Artemis): the channel's multicast address, consumed"
                        + " from the group's queue by its fully qualified name, and the four"
                        + " application properties (`parley-id`, `parley-type`, `content-type`,"
                        + " `parley-source`) with the message's content type."
                        + " A ratio is the most Parley's events can reach on that broker with"
                        + " those messages. %,d events per repetition, %d in flight, %d"
                        + " repetitions interleaved, after a warm-up as above.\n\n",
                    c.events(), c.eventWindow(), c.reps())
                + "| pair | raw events/s | with Parley's wire events/s | ratio (min–max) |"
                + " Parley's events, ratio to raw in this run |\n|---|---:|---:|---|---|\n");
    md.append(
        wireRow("raw STOMP client, RabbitMQ", stomp, parleyRatio(all, n -> n.startsWith("STOMP"))));
    md.append(
        wireRow(
            "raw Qpid JMS, embedded Artemis", amqp, parleyRatio(all, n -> n.startsWith("AMQP"))));
    return md.toString();
  }

  /** Parley's throughput ratio in the first goal-bearing row whose name {@code named} accepts. */
  private static String parleyRatio(
      List<Measured> all, java.util.function.Predicate<String> named) {
    return all.stream()
        .filter(m -> named.test(m.pair().name()) && !m.pair().ratesOfSlower())
        .findFirst()
        .map(m -> spread(m.throughput().ratios(Throughput::perSecond), "%.2f"))
        .orElse("not measured");
  }

  private static String wireRow(String name, Runs<Throughput> wire, String parley) {
    return row(
        name,
        f("%,.0f", wire.rawMedian(Throughput::perSecond)),
        f("%,.0f", wire.oursMedian(Throughput::perSecond)),
        spread(wire.ratios(Throughput::perSecond), "%.2f"),
        parley);
  }

  /** The cause of a missed events goal that a wire-cost ceiling explains in part or not at all. */
  private static String wireCause(
      Runs<Throughput> wire, double ratio, double goal, String what, String rest) {
    return wireCause(wire, ratio, goal, what, EVENTS_WIRE, rest);
  }

  /** As above, the ceiling measured in the section named {@code section}. */
  static String wireCause(
      Runs<Throughput> wire, double ratio, double goal, String what, String section, String rest) {
    List<Double> w = wire.ratios(Throughput::perSecond);
    double ceiling = Measure.median(w);
    return f(
            "in this run the raw client sending Parley's %s ran at %s of its own rate (section"
                + " \"%s\"): %s, and Parley reached %.2f of that ceiling; ",
            what,
            spread(w, "%.2f"),
            section,
            ceiling < goal
                ? "with those messages the broker alone holds any client below the goal"
                : f(
                    "to meet the goal with them Parley would have to reach %.2f of it",
                    goal / ceiling),
            ratio / ceiling)
        + rest;
  }

  private static void eventGoals(
      List<Measured> all, Report report, Runs<Throughput> stompWire, Runs<Throughput> amqpWire) {
    for (Measured m : all) {
      String name = m.pair().name();
      if (m.pair().ratesOfSlower()) {
        continue; // diagnostic rows (through the outbox and the inbox): no goal
      }
      List<Double> ratios = m.throughput().ratios(Throughput::perSecond);
      double ratio = Measure.median(ratios);
      if (name.contains("Spring AMQP")) {
        List<Double> cpu = m.throughput().ratios(Throughput::cpuMicrosPerOp);
        report.goal(
            "Parley vs Spring AMQP 3.2.12 (" + m.pair().baseline() + "), events: throughput",
            "≥ 1.00",
            spread(ratios, "%.2f") + ", CPU per event " + spread(cpu, "%.2f×"),
            ratio >= 1.00,
            Causes.springRequestReply());
      } else if (name.startsWith("RabbitMQ (")) {
        List<Double> cpu = m.throughput().ratios(Throughput::cpuMicrosPerOp);
        List<Double> p50 = m.openLoop().get(50).differences(Latency::p50);
        report.goal(
            "RabbitMQ transport vs raw amqp-client: throughput",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            Causes.events(name));
        report.goal(
            "RabbitMQ transport vs raw amqp-client: CPU per message",
            "≤ 1.15×",
            spread(cpu, "%.2f×"),
            Measure.median(cpu) <= 1.15,
            Causes.events(name));
        report.goal(
            "RabbitMQ transport vs raw amqp-client: p50 at a fixed rate (50 % of raw max)",
            "≤ +50 µs",
            spread(p50, "%+.0f µs"),
            Measure.median(p50) <= 50,
            Causes.eventsAtFixedRate());
      } else if (name.startsWith("AMQP")) {
        report.goal(
            "AMQP 1.0 transport on embedded Artemis vs raw Qpid JMS",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            wireCause(
                amqpWire,
                ratio,
                0.90,
                "messages (the channel's multicast address, the group's queue by its fully"
                    + " qualified name, the four application properties of the wire contract)",
                Causes.events(name)));
      } else if (name.startsWith("STOMP")) {
        report.goal(
            "STOMP transport vs a minimal raw STOMP socket client",
            "≥ 0.85",
            spread(ratios, "%.2f"),
            ratio >= 0.85,
            wireCause(
                stompWire,
                ratio,
                0.85,
                "frames (the same destination through amq.topic and the three header lines of the"
                    + " wire contract)",
                Causes.events(name)));
      } else if (name.startsWith("consumer with the batching inbox")) {
        report.goal(
            "batched dedup vs the same consumer without dedup (the broker stays the bottleneck)",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            Causes.DEDUP);
      }
    }
  }

  // ---- exactly-once -----------------------------------------------------------------------------

  private static void exactlyOnce(Config c, Report report) throws Exception {
    ExactlyOnceBench.Results r;
    try (Progress progress = new Progress("exactly-once", c.reps() * 8L + 1)) {
      r = ExactlyOnceBench.run(c.transactions(), c.reps(), false, progress::step);
    }
    StringBuilder md = new StringBuilder("## Exactly-once pairs (PostgreSQL, RabbitMQ)\n\n");
    md.append(
        f(
            "`ExactlyOnceBench` in this run: %,d transactions per repetition (%,d for the batching"
                + " and relay pairs), %d repetitions interleaved; rates per second. Method and"
                + " history: exactly-once.md.\n\n",
            c.transactions(), c.transactions() * 4, c.reps()));
    md.append("| pair | raw /s | Parley /s | ratio (min–max) |\n|---|---:|---:|---|\n");
    for (Compared p : r.pairs()) {
      md.append(
          row(
              p.name(),
              f("%,.0f", Measure.median(p.raw())),
              f("%,.0f", Measure.median(p.ours())),
              spread(p.ratios(), "%.2f")));
      List<Double> ratios = p.ratios();
      double ratio = Measure.median(ratios);
      if (p.name().startsWith("outbox write vs")) {
        report.goal(
            "outbox write path vs the raw business transaction",
            "≥ 0.95",
            spread(ratios, "%.2f"),
            ratio >= 0.95,
            Causes.OUTBOX);
      } else if (p.name().startsWith("inbox vs")) {
        report.goal(
            "idempotent consumer vs raw JDBC, one message per transaction",
            "≥ 0.85",
            spread(ratios, "%.2f"),
            ratio >= 0.85,
            Causes.INBOX);
      } else if (p.name().startsWith("batching inbox")) {
        report.goal(
            "idempotent consumer (batching) vs raw JDBC at the same batching",
            "≥ 0.85",
            spread(ratios, "%.2f"),
            ratio >= 0.85,
            Causes.BATCHING);
      } else if (p.name().startsWith("relay vs")) {
        report.goal(
            "relay vs a hand-written SKIP LOCKED loop",
            "≥ 0.85",
            spread(ratios, "%.2f"),
            ratio >= 0.85,
            Causes.RELAY);
      }
    }
    ExactlyOnceBench.EndToEnd e = r.endToEnd();
    md.append(
        f(
            "\nEnd to end, all durable (4 writers, 10 events per business transaction → outbox →"
                + " relay → RabbitMQ quorum queue → 32 consumers into the batching inbox): %,d"
                + " messages written at %,.0f/s and applied at **%,.0f/s** in %,d inbox"
                + " transactions.\n",
            e.messages(), e.writeRate(), e.appliedRate(), e.transactions()));
    report.goal(
        "the moonshot: exactly-once effects end to end, all durable",
        "≥ 10,000 messages/s",
        f("%,.0f messages/s (one run of %,d)", e.appliedRate(), e.messages()),
        e.appliedRate() >= 10_000,
        Causes.MOONSHOT);
    report.section(md.toString());
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private HikariDataSource pool(String schema) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbc);
    config.setSchema(schema);
    config.setMaximumPoolSize(40);
    config.setPoolName("lab");
    return new HikariDataSource(config);
  }

  private void execute(String sql) throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(jdbc);
    try (java.sql.Connection c = ds.getConnection();
        java.sql.Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String syncIntro(Config c) {
    return "## Sync vs async: one operation over every binding\n\n"
        + f(
            "The operation echoes a small record (`{\"text\":\"hello, parley\",\"number\":42}`;"
                + " its Protobuf twin on gRPC). Client and server in this process, each side with"
                + " its own connections. REST and gRPC: one Parley `RpcServer` (Armeria 1.36) and"
                + " a bare Armeria server; the raw gRPC side is a grpc-java stub on a plain"
                + " grpc-java service. Brokers: the embedded Artemis (AMQP 1.0) started by the"
                + " lab, and the machine's RabbitMQ (AMQP 0-9-1, and STOMP through its plugin)."
                + " Raw request/reply: hand-written with the raw client, requests persistent, the"
                + " reply the confirmation. Throughput: %,d calls per repetition, at most %d in"
                + " flight, after a warm-up of at least %.0f s and %,d calls per side, no more"
                + " calls once a side has run for %.0f s (closed loops of half a repetition, raw"
                + " and Parley in turn), so that the JIT has compiled both paths before anything"
                + " counts: it takes calls, not time, and Parley's AMQP 1.0 request/reply reached"
                + " its steady rate after about 75,000 (raw after about 35,000; a driver,"
                + " 2026-12-05). One in flight: the median of %,d sequential calls."
                + " Open loop: calls"
                + " started at a fixed rate for %.1f s, latency from each call's intended start"
                + " (HdrHistogram; no coordinated omission), at 50 %% and 80 %% of the raw side's"
                + " median maximum; a call the server turns away at its limit of concurrent calls"
                + " (RESOURCE_EXHAUSTED) is counted beside the percentiles, not timed. %d"
                + " repetitions, raw and Parley interleaved. CPU and context"
                + " switches are this process's: client and server, and on AMQP 1.0 the embedded"
                + " Artemis too (it runs in the lab's JVM); not RabbitMQ's.\n\n",
            c.calls(),
            c.window(),
            c.warmUp().seconds(),
            c.warmUp().calls(),
            c.warmUp().maxSeconds(),
            c.oneInFlightCalls(),
            c.openLoopSeconds(),
            c.reps());
  }

  private static String eventsIntro(Config c) {
    return "## One-way events: publish → consume\n\n"
        + f(
            "A call is one event published and consumed (it completes when the consumer has"
                + " it), so throughput is the pipeline's and latency runs from the intended"
                + " publish to the consumer. Parley: `Messaging.publish` and `subscribe` on each"
                + " transport (JSON, a 200-character payload). Raw: the client's own persistent,"
                + " confirmed sends (publisher confirms, a JMS completion listener, STOMP"
                + " receipts) and acknowledged consumption, Jackson on both ends. %,d events per"
                + " repetition, at most %d in flight, after a warm-up as above (at least %.0f s"
                + " and %,d events per side, or %.0f s); open loop for %.1f s at 50 %% and 80 %% of the raw maximum; %d"
                + " repetitions interleaved. The outbox rows write each"
                + " event in its own PostgreSQL transaction (one writer); the inbox commits each"
                + " effect with its dedup row. CPU and context switches as in the section"
                + " above.\n\n",
            c.events(),
            c.eventWindow(),
            c.warmUp().seconds(),
            c.warmUp().calls(),
            c.warmUp().maxSeconds(),
            c.openLoopSeconds(),
            c.reps());
  }

  private static String header(Config c, double minutes) {
    Runtime rt = Runtime.getRuntime();
    return "# The IPC lab\n\n"
        + f(
            "Written by `bench/lab%s` on %s: %s mode, %.1f minutes, %d CPUs as Java sees them,"
                + " Java %s (%s), threads not pinned (unpinned latency on 2 vCPUs is bimodal)."
                + " Every Parley figure is beside its raw baseline in the same run, interleaved"
                + " (raw, Parley, raw, Parley …), with the median and its min–max over the"
                + " repetitions; the rules are those of `shared/BENCHMARKS.md`.%s\n",
            c.mode().equals("full") ? " --full" : "",
            LocalDate.now(),
            c.mode(),
            minutes,
            rt.availableProcessors(),
            System.getProperty("java.version"),
            System.getProperty("java.vm.name"),
            c.mode().equals("quick")
                ? " Quick mode: short loads, so the spread is wide; `bench/lab --full` for the"
                    + " record."
                : "");
  }
}
