package dev.parley.bench.lab;

import static dev.parley.bench.lab.Report.f;
import static dev.parley.bench.lab.Report.row;

import dev.parley.bench.RpcBench;
import dev.parley.bench.RpcBench.Hello;
import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import dev.parley.transport.amqp.AmqpTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The receiver stopped under steady load: three callers start work at the same fixed rate while the
 * receiving service is up, stopped for a while, and up again — a REST caller without retries, a
 * REST caller with retries and a circuit breaker, and an asynchronous sender of commands through
 * the embedded broker (AMQP 1.0). The REST server is really closed and started again on the same
 * port; the command consumer's messaging (its connection) is really closed and opened again.
 */
final class Availability {

  /** The command the asynchronous lane sends. */
  record Tick(long id) {}

  /** One lane's per-second counts, by the second its call started (or, async, was delivered). */
  static final class Lane {
    final String name;
    final AtomicLongArray ok;
    final AtomicLongArray failed;
    final List<Long> failureMicros = java.util.Collections.synchronizedList(new ArrayList<>());

    Lane(String name, int seconds) {
      this.name = name;
      this.ok = new AtomicLongArray(seconds + 1);
      this.failed = new AtomicLongArray(seconds + 1);
    }

    long total(AtomicLongArray a, int from, int to) {
      long sum = 0;
      for (int i = from; i < Math.min(to, a.length()); i++) {
        sum += a.get(i);
      }
      return sum;
    }
  }

  private Availability() {}

  static void run(EmbeddedBroker broker, Config c, Report report) throws Exception {
    int before = (int) c.availabilityBefore();
    int down = (int) c.availabilityDown();
    int after = (int) c.availabilityAfter();
    int seconds = before + down + after;
    double rate = c.availabilityRate();
    Codecs codecs = Codecs.of(JsonCodec.of());
    Lane plain = new Lane("REST, deadline 1 s, no retries", seconds);
    Lane guarded =
        new Lane("REST, deadline 2 s, 3 attempts (backoff 100–400 ms), circuit breaker", seconds);
    Lane delivered = new Lane("async command over AMQP 1.0 (embedded Artemis)", seconds + 120);
    AtomicLongArray sent = new AtomicLongArray(seconds + 1);
    Set<Long> deliveredIds = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    AtomicInteger sendFailures = new AtomicInteger();
    Channel<Tick> commands = Channel.command("lab.availability." + Lab.RUN, Tick.class);

    RpcServer server = rest(codecs, 0);
    int port = server.port();
    Messaging receiver = null;
    try (RpcClient plainClient =
            client(codecs, port, Policy.builder().deadline(Duration.ofSeconds(1)).build());
        RpcClient guardedClient =
            client(
                codecs,
                port,
                Policy.builder()
                    .deadline(Duration.ofSeconds(2))
                    .retry(3, Duration.ofMillis(100), Duration.ofMillis(400))
                    .circuitBreaker(50, 20, Duration.ofSeconds(2), 3)
                    .build());
        Messaging sender =
            Messaging.builder()
                .service("lab-sender")
                .transport(AmqpTransport.builder(broker.amqpUri()).build())
                .codecs(codecs)
                .build();
        Progress progress = new Progress("availability", seconds)) {
      long start = System.nanoTime();
      receiver = receiver(broker, codecs, commands, deliveredIds, deliveries, delivered, start);
      long interval = (long) (1e9 / rate);
      long total = (long) (rate * seconds);
      int phase = 0; // 0 up, 1 down, 2 up again
      CompletableFuture<Void> stopped = CompletableFuture.completedFuture(null);
      int lastSecond = -1;
      for (long i = 0; i < total; i++) {
        long intended = start + i * interval;
        long wait;
        while ((wait = intended - System.nanoTime()) > 0) {
          LockSupport.parkNanos(Math.min(wait, 1_000_000));
        }
        int second = (int) ((intended - start) / 1_000_000_000L);
        if (second != lastSecond) {
          lastSecond = second;
          progress.step();
          progress.message(phase == 1 ? "receiver stopped" : "receiver up");
        }
        if (phase == 0 && second >= before) {
          phase = 1;
          // the REST receiver goes away, and so does the command consumer; closed off this
          // thread, so the callers keep their rate
          RpcServer closing = server;
          Messaging closingReceiver = receiver;
          stopped =
              CompletableFuture.allOf(
                  CompletableFuture.runAsync(closing::close),
                  CompletableFuture.runAsync(closingReceiver::close));
        } else if (phase == 1 && second >= before + down) {
          phase = 2;
          stopped.get(30, TimeUnit.SECONDS);
          server = rest(codecs, port);
          receiver = receiver(broker, codecs, commands, deliveredIds, deliveries, delivered, start);
        }
        call(plainClient, plain, second);
        call(guardedClient, guarded, second);
        long id = i;
        sent.incrementAndGet(second);
        sender
            .send(commands, new Tick(id))
            .whenComplete(
                (m, e) -> {
                  if (e != null) {
                    sendFailures.incrementAndGet();
                  }
                });
      }
      long sentTotal = total;
      long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (deliveredIds.size() + sendFailures.get() < sentTotal
          && System.nanoTime() < drainDeadline) {
        LockSupport.parkNanos(10_000_000);
      }
      double drained = (System.nanoTime() - start) / 1e9;
      receiver.close();
      server.close();
      long lost = sentTotal - sendFailures.get() - deliveredIds.size();
      report.section(
          markdown(
              c,
              plain,
              guarded,
              delivered,
              sent,
              sentTotal,
              deliveredIds.size(),
              deliveries.get(),
              sendFailures.get(),
              lost,
              drained,
              report));
      report.goal(
          "availability: asynchronous commands sent while the receiver was stopped",
          "0 lost",
          f("%,d sent, %,d delivered, %d lost", sentTotal, deliveredIds.size(), lost),
          lost == 0 && sendFailures.get() == 0,
          "messages lost or refused: see the availability section");
    }
  }

  private static void call(RpcClient client, Lane lane, int second) {
    long start = System.nanoTime();
    CompletableFuture<Hello> f = client.callAsync(RpcBench.ECHO_REST, RpcBench.REST_REQUEST);
    f.whenComplete(
        (v, e) -> {
          if (e == null) {
            lane.ok.incrementAndGet(second);
          } else {
            lane.failed.incrementAndGet(second);
            lane.failureMicros.add((System.nanoTime() - start) / 1000);
          }
        });
  }

  private static RpcServer rest(Codecs codecs, int port) {
    return RpcServer.builder()
        .port(port)
        .codecs(codecs)
        .serve(RpcBench.ECHO_REST, (request, ctx) -> request)
        .docs(false)
        .build()
        .start();
  }

  private static RpcClient client(Codecs codecs, int port, Policy policy) {
    return RpcClient.builder()
        .binding(Binding.REST)
        .endpoints(dev.parley.rpc.Endpoints.of("127.0.0.1:" + port))
        .codecs(codecs)
        .policy(policy)
        .build();
  }

  private static Messaging receiver(
      EmbeddedBroker broker,
      Codecs codecs,
      Channel<Tick> commands,
      Set<Long> ids,
      AtomicInteger deliveries,
      Lane lane,
      long start) {
    Messaging m =
        Messaging.builder()
            .service("lab-receiver")
            .brokerUri(broker.amqpUri().toString())
            .codecs(codecs)
            .build();
    m.serve(
        commands,
        (Tick t, dev.parley.messaging.MessageContext ctx) -> {
          ids.add(t.id());
          deliveries.incrementAndGet();
          lane.ok.incrementAndGet((int) ((System.nanoTime() - start) / 1_000_000_000L));
          return null;
        });
    return m;
  }

  private static String markdown(
      Config c,
      Lane plain,
      Lane guarded,
      Lane delivered,
      AtomicLongArray sent,
      long sentTotal,
      int distinct,
      int deliveries,
      int sendFailures,
      long lost,
      double drained,
      Report report) {
    int before = (int) c.availabilityBefore();
    int down = (int) c.availabilityDown();
    int seconds = before + down + (int) c.availabilityAfter();
    StringBuilder md = new StringBuilder("## Availability: the receiver stopped for a while\n\n");
    md.append(
        f(
            "Three callers start work at %.0f/s each, open loop, for %d s. From second %d to"
                + " second %d the receiver is stopped: the REST server is closed (and started"
                + " again on the same port), and the command consumer's connection is closed (and"
                + " opened again). The sender of commands and both REST clients run throughout.\n\n",
            c.availabilityRate(), seconds, before, before + down));
    md.append(
        "| caller | calls | failed | failed % | failed % while stopped | median time to fail"
            + " |\n|---|---:|---:|---:|---:|---:|\n");
    for (Lane l : List.of(plain, guarded)) {
      long ok = l.total(l.ok, 0, seconds + 1);
      long failed = l.total(l.failed, 0, seconds + 1);
      long okDown = l.total(l.ok, before, before + down);
      long failedDown = l.total(l.failed, before, before + down);
      List<Double> micros;
      synchronized (l.failureMicros) {
        micros = l.failureMicros.stream().map(x -> x / 1000.0).toList();
      }
      md.append(
          row(
              l.name,
              f("%,d", ok + failed),
              f("%,d", failed),
              f("%.1f", 100.0 * failed / Math.max(1, ok + failed)),
              f("%.1f", 100.0 * failedDown / Math.max(1, okDown + failedDown)),
              micros.isEmpty() ? "–" : f("%,.1f ms", Measure.median(micros))));
    }
    md.append(
        f(
            "\n| asynchronous commands | sent | refused by the broker | delivered (distinct) |"
                + " deliveries | lost | waiting in the broker at the restart | all delivered by |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|\n"
                + "| %s | %,d | %d | %,d | %,d | **%d** | %,d | second %.1f |\n",
            delivered.name,
            sentTotal,
            sendFailures,
            distinct,
            deliveries,
            lost,
            sent(sent, 0, before + down) - delivered.total(delivered.ok, 0, before + down),
            drained));
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(420)
            .title("Availability: successes per second while the receiver stops and returns")
            .xAxisTitle("second")
            .yAxisTitle("per second")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    List<Integer> x = new ArrayList<>();
    List<Long> plainOk = new ArrayList<>();
    List<Long> guardedOk = new ArrayList<>();
    List<Long> asyncOk = new ArrayList<>();
    List<Long> backlog = new ArrayList<>();
    long cumulativeSent = 0;
    long cumulativeDelivered = 0;
    int last = Math.min(delivered.ok.length() - 1, (int) Math.ceil(drained));
    for (int s = 0; s <= last; s++) {
      x.add(s);
      plainOk.add(s <= seconds ? plain.ok.get(s) : 0);
      guardedOk.add(s <= seconds ? guarded.ok.get(s) : 0);
      asyncOk.add(delivered.ok.get(s));
      cumulativeSent += s <= seconds ? sent.get(s) : 0;
      cumulativeDelivered += delivered.ok.get(s);
      backlog.add(cumulativeSent - cumulativeDelivered);
    }
    chart.addSeries("REST ok/s, no retries", x, plainOk);
    chart.addSeries("REST ok/s, retries + breaker", x, guardedOk);
    chart.addSeries("async delivered/s", x, asyncOk);
    chart.addSeries("async waiting in the broker", x, backlog);
    md.append('\n').append(report.chart("availability", chart));
    return md.toString();
  }

  private static long sent(AtomicLongArray sent, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += sent.get(i);
    }
    return sum;
  }
}
