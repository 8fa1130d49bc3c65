package dev.parley.bench.lab;

import static dev.parley.bench.lab.Report.f;
import static dev.parley.bench.lab.Report.row;
import static dev.parley.bench.lab.Report.spread;

import dev.parley.bench.lab.Interleaved.Runs;
import dev.parley.bench.lab.Measure.Latency;
import dev.parley.bench.lab.Measure.Throughput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The same operation over REST, gRPC and request/reply on three brokers, each beside its raw
 * baseline: throughput at a bounded window, latency with one call in flight, and latency in an open
 * loop at 50 % and 80 % of the raw side's maximum.
 */
final class PairSection {

  /** What one binding measured. */
  record Measured(
      Pair pair,
      Runs<Throughput> throughput,
      Runs<Double> oneInFlight,
      Map<Integer, Runs<Latency>> openLoop,
      Map<Integer, Double> rates) {}

  private PairSection() {}

  /** How a section loads its pairs. */
  record Load(String task, String unit, int n, int window, boolean oneInFlight, String chart) {}

  static List<Measured> run(List<Pair> pairs, Load load, Config c) throws Exception {
    List<Measured> all = new ArrayList<>();
    int perPair = c.reps() * 2 * (load.oneInFlight() ? 4 : 3);
    try (Progress progress = new Progress(load.task(), (long) perPair * pairs.size())) {
      for (Pair p : pairs) {
        progress.message(p.name());
        Runs<Throughput> t =
            Interleaved.throughput(
                p.raw(), p.parley(), load.n(), load.window(), c.reps(), c.warmUp(), progress);
        Runs<Double> one =
            load.oneInFlight()
                ? Interleaved.oneInFlight(
                    p.raw(), p.parley(), c.oneInFlightCalls(), c.reps(), progress)
                : null;
        double max =
            p.ratesOfSlower()
                ? Math.min(t.rawMedian(Throughput::perSecond), t.oursMedian(Throughput::perSecond))
                : t.rawMedian(Throughput::perSecond);
        Map<Integer, Runs<Latency>> open = new java.util.TreeMap<>();
        Map<Integer, Double> rates = new java.util.TreeMap<>();
        for (int percent : new int[] {50, 80}) {
          double rate = Math.max(50, max * percent / 100);
          rates.put(percent, rate);
          open.put(
              percent,
              Interleaved.openLoop(
                  p.raw(), p.parley(), rate, c.openLoopSeconds(), c.reps(), progress));
        }
        all.add(new Measured(p, t, one, open, rates));
      }
    }
    return all;
  }

  /** The tables and charts of a section's pairs. */
  static String tables(List<Measured> all, Load load, Report report) {
    StringBuilder md = new StringBuilder();
    String u = load.unit();
    md.append(
        f(
            "| %s | raw baseline | raw %s/s | Parley %s/s | ratio (min–max) | raw µs"
                + " CPU/%s | Parley µs CPU/%s | CPU ratio (min–max) | context switches per %s,"
                + " raw / Parley |\n",
            "binding",
            u,
            u,
            u.substring(0, u.length() - 1),
            u.substring(0, u.length() - 1),
            u.substring(0, u.length() - 1)));
    md.append("|---|---|---:|---:|---|---:|---:|---|---|\n");
    for (Measured m : all) {
      Runs<Throughput> t = m.throughput();
      md.append(
          row(
              m.pair().name(),
              m.pair().baseline(),
              f("%,.0f", t.rawMedian(Throughput::perSecond)),
              f("%,.0f", t.oursMedian(Throughput::perSecond)),
              spread(t.ratios(Throughput::perSecond), "%.2f"),
              f("%.1f", t.rawMedian(Throughput::cpuMicrosPerOp)),
              f("%.1f", t.oursMedian(Throughput::cpuMicrosPerOp)),
              spread(t.ratios(Throughput::cpuMicrosPerOp), "%.2f"),
              f(
                  "%.1f / %.1f",
                  t.rawMedian(Throughput::switchesPerOp),
                  t.oursMedian(Throughput::switchesPerOp))));
    }
    if (load.oneInFlight()) {
      md.append(
          "\n| binding, one call in flight | raw p50 µs | Parley p50 µs | Δ p50 µs (min–max) |\n"
              + "|---|---:|---:|---|\n");
      for (Measured m : all) {
        Runs<Double> o = m.oneInFlight();
        md.append(
            row(
                m.pair().name(),
                f("%.0f", o.rawMedian(x -> x)),
                f("%.0f", o.oursMedian(x -> x)),
                spread(o.differences(x -> x), "%+.0f")));
      }
    }
    md.append(
        f(
            "\n| binding, open loop | rate %s/s | raw p50 / p99 / p99.9 µs | Parley p50 / p99 /"
                + " p99.9 µs | Δ p50 µs (min–max) |\n|---|---:|---|---|---|\n",
            u));
    for (Measured m : all) {
      for (Map.Entry<Integer, Runs<Latency>> e : m.openLoop().entrySet()) {
        Runs<Latency> l = e.getValue();
        md.append(
            row(
                m.pair().name() + f(" at %d %%", e.getKey()),
                f("%,.0f", m.rates().get(e.getKey())),
                percentiles(l, true),
                percentiles(l, false),
                spread(l.differences(Latency::p50), "%+.0f")));
      }
    }
    md.append('\n').append(charts(all, load, report));
    return md.toString();
  }

  private static String percentiles(Runs<Latency> l, boolean raw) {
    java.util.function.ToDoubleFunction<java.util.function.Function<Latency, Double>> m =
        v -> raw ? l.rawMedian(v) : l.oursMedian(v);
    long refused = (raw ? l.raw() : l.ours()).stream().mapToLong(Latency::refused).sum();
    return f(
            "%,.0f / %,.0f / %,.0f",
            m.applyAsDouble(Latency::p50),
            m.applyAsDouble(Latency::p99),
            m.applyAsDouble(Latency::p999))
        + (refused > 0 ? f(" (%,d calls refused as overload over the repetitions)", refused) : "");
  }

  private static String charts(List<Measured> all, Load load, Report report) {
    List<String> names =
        all.stream().map(m -> m.pair().name().replace(" request/reply", "")).toList();
    CategoryChart tput =
        new CategoryChartBuilder()
            .width(900)
            .height(420)
            .title(
                f("%s: throughput, %s/s at %d in flight", load.task(), load.unit(), load.window()))
            .yAxisTitle(load.unit() + "/s")
            .build();
    tput.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    tput.getStyler().setXAxisLabelRotation(15);
    tput.addSeries(
        "raw",
        names,
        all.stream().map(m -> m.throughput().rawMedian(Throughput::perSecond)).toList());
    tput.addSeries(
        "Parley",
        names,
        all.stream().map(m -> m.throughput().oursMedian(Throughput::perSecond)).toList());
    CategoryChart lat =
        new CategoryChartBuilder()
            .width(900)
            .height(420)
            .title(load.task() + ": open-loop latency at 50 % of the raw maximum, µs")
            .yAxisTitle("µs")
            .build();
    lat.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    lat.getStyler().setXAxisLabelRotation(15);
    for (String side : List.of("raw", "Parley")) {
      boolean raw = side.equals("raw");
      lat.addSeries(
          side + " p50",
          names,
          all.stream().map(m -> pick(m.openLoop().get(50), raw, Latency::p50)).toList());
      lat.addSeries(
          side + " p99",
          names,
          all.stream().map(m -> pick(m.openLoop().get(50), raw, Latency::p99)).toList());
    }
    return report.chart(load.chart() + "-throughput", tput)
        + "\n"
        + report.chart(load.chart() + "-latency", lat);
  }

  private static double pick(
      Runs<Latency> l, boolean raw, java.util.function.Function<Latency, Double> v) {
    return Math.max(1, raw ? l.rawMedian(v) : l.oursMedian(v));
  }

  /**
   * The request/reply goals of BENCHMARKS.md; {@code wire} holds, by pair name, the raw client
   * beside itself sending Parley's requests and replies, whose ratio the cause of a missed
   * 64-in-flight goal starts with.
   */
  static void requestReplyGoals(
      List<Measured> all, Report report, Map<String, Runs<Throughput>> wire) {
    for (Measured m : all) {
      String name = m.pair().name();
      List<Double> ratios = m.throughput().ratios(Throughput::perSecond);
      List<Double> delta = m.oneInFlight().differences(x -> x);
      double ratio = Measure.median(ratios);
      double d = Measure.median(delta);
      if (name.startsWith("gRPC")) {
        report.goal(
            "gRPC binding vs raw grpc-java stubs: unary throughput",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            Causes.GRPC_THROUGHPUT);
        report.goal(
            "gRPC binding vs raw grpc-java stubs: p50, one call in flight",
            "≤ +10 µs",
            spread(delta, "%+.0f µs"),
            d <= 10,
            Causes.GRPC_P50);
      } else if (name.contains("Spring AMQP")) {
        report.goal(
            "Parley vs Spring AMQP 3.2.12 ("
                + m.pair().baseline()
                + "), "
                + name
                + ": 64 in flight",
            "≥ 1.00",
            spread(ratios, "%.2f"),
            ratio >= 1.00,
            Causes.springRequestReply());
      } else if (name.startsWith("REST")) {
        report.goal(
            "REST binding vs bare Armeria + the same Jackson mapper",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            Causes.REST);
      } else {
        report.goal(
            "async request/reply vs raw request/reply, " + name + ": 64 in flight",
            "≥ 0.90",
            spread(ratios, "%.2f"),
            ratio >= 0.90,
            wire.containsKey(name)
                ? Lab.wireCause(
                    wire.get(name),
                    ratio,
                    0.90,
                    "requests and replies",
                    Lab.REQUEST_REPLY_WIRE,
                    Causes.requestReply(name))
                : Causes.requestReply(name));
        report.goal(
            "async request/reply vs raw request/reply, " + name + ": p50, one in flight",
            "≤ +50 µs",
            spread(delta, "%+.0f µs"),
            d <= 50,
            Causes.oneInFlight(name));
      }
    }
  }

  /**
   * BENCHMARKS.md's "no queueing collapse": under open load at 50 % and 80 % of the raw maximum,
   * Parley's p99 at most twice the raw p99 (the median of the repetitions' ratios). Diagnostic rows
   * whose baseline is Parley itself (the outbox, the inbox, dedup) have no such goal.
   */
  static void openLoopGoals(List<Measured> all, String section, Report report) {
    for (Measured m : all) {
      String name = m.pair().name();
      if (m.pair().ratesOfSlower() || name.startsWith("consumer with")) {
        continue;
      }
      double throughput = Measure.median(m.throughput().ratios(Throughput::perSecond));
      for (Map.Entry<Integer, Runs<Latency>> e : m.openLoop().entrySet()) {
        Runs<Latency> l = e.getValue();
        List<Double> ratios = l.ratios(Latency::p99);
        report.goal(
            section + ", " + name + ": p99 in an open loop at " + e.getKey() + " % of raw max",
            "≤ 2× raw p99",
            spread(ratios, "%.2f×")
                + f(
                    ", p99 raw %,.0f µs, Parley %,.0f µs",
                    l.rawMedian(Latency::p99), l.oursMedian(Latency::p99)),
            Measure.median(ratios) <= 2.0,
            Causes.openLoop(e.getKey(), throughput));
      }
    }
  }
}
