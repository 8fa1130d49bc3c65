package dev.parley.bench.lab;

import static dev.parley.bench.lab.Report.f;
import static dev.parley.bench.lab.Report.row;
import static dev.parley.bench.lab.Report.spread;

import dev.parley.bench.CodecBench;
import dev.parley.bench.CodecSizes;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Bytes per message for every format on the same fixtures, and each Parley codec's encode and
 * decode beside the direct library call on the ~1 KiB "medium" fixture (the setup of {@link
 * CodecBench}, which checks that both write identical bytes): time and bytes allocated per
 * operation, interleaved timing loops in this thread. The JMH figures of {@code CodecBench} stay
 * the reference for single nanoseconds; the lab shows the same pairs in the same run as the rest.
 */
final class Formats {

  static final String[] FORMATS = {"json", "xml", "protobuf", "avro", "thrift"};

  /** One repetition of one operation: nanoseconds and bytes allocated per call. */
  record Cost(double nanos, double bytes) {}

  private Formats() {}

  interface Op {
    Object run() throws Exception;
  }

  static Cost cost(Op op, int n) throws Exception {
    Object sink = null;
    long bytes = Measure.allocatedBytes();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      sink = op.run();
    }
    long nanos = System.nanoTime() - start;
    long allocated = Measure.allocatedBytes() - bytes;
    if (sink == null) {
      throw new IllegalStateException("no result");
    }
    return new Cost((double) nanos / n, (double) allocated / n);
  }

  static void run(Config c, Report report) throws Exception {
    StringBuilder md = new StringBuilder("## Formats\n\n");
    md.append("Bytes per message, every codec on the same fixtures (`CodecSizes`):\n\n");
    md.append(CodecSizes.table());
    md.append(
        f(
            "\nEncode and decode of the medium fixture, Parley codec vs the direct library call:"
                + " %,d calls per repetition after as many for warm-up, %d repetitions"
                + " interleaved (raw, Parley).\n\n",
            c.codecOps(), c.reps()));
    md.append(
        "| format | operation | raw ns/op | Parley ns/op | Δ ns/op (min–max) | raw B/op |"
            + " Parley B/op | Δ B/op |\n|---|---|---:|---:|---|---:|---:|---:|\n");
    List<String> names = new ArrayList<>();
    List<Double> rawEnc = new ArrayList<>();
    List<Double> ourEnc = new ArrayList<>();
    List<Double> rawDec = new ArrayList<>();
    List<Double> ourDec = new ArrayList<>();
    try (Progress progress = new Progress("formats", (long) FORMATS.length * 2 * c.reps() * 2)) {
      for (String format : FORMATS) {
        progress.message(format);
        CodecBench b = new CodecBench();
        b.format = format;
        b.setUp();
        names.add(format);
        for (boolean encode : new boolean[] {true, false}) {
          Op raw = encode ? b::rawEncode : b::rawDecode;
          Op ours = encode ? b::parleyEncode : b::parleyDecode;
          cost(raw, c.codecOps());
          cost(ours, c.codecOps());
          Interleaved.Runs<Cost> runs =
              Interleaved.run(
                  () -> cost(raw, c.codecOps()),
                  () -> cost(ours, c.codecOps()),
                  c.reps(),
                  progress);
          double rn = runs.rawMedian(Cost::nanos);
          double on = runs.oursMedian(Cost::nanos);
          double rb = runs.rawMedian(Cost::bytes);
          double ob = runs.oursMedian(Cost::bytes);
          List<Double> dn = runs.differences(Cost::nanos);
          String op = encode ? "encode" : "decode";
          md.append(
              row(
                  format,
                  op,
                  f("%,.0f", rn),
                  f("%,.0f", on),
                  spread(dn, "%+,.0f"),
                  f("%,.0f", rb),
                  f("%,.0f", ob),
                  f("%+,.0f", ob - rb)));
          (encode ? rawEnc : rawDec).add(rn);
          (encode ? ourEnc : ourDec).add(on);
          List<Double> ratios = runs.ratios(x -> 1 / x.nanos());
          double ratio = Measure.median(ratios);
          double delta = Measure.median(dn);
          report.goal(
              "codec adapter vs direct library call: " + format + " " + op,
              "≥ 0.95 throughput or ≤ +50 ns/op; ≤ +64 B/op; identical bytes",
              spread(ratios, "%.2f")
                  + f(", %+.0f ns/op, %+.0f B/op", delta, ob - rb)
                  + ", identical bytes",
              (ratio >= 0.95 || delta <= 50) && ob - rb <= 64,
              Causes.codec(format, op));
        }
      }
    }
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(420)
            .title("Formats: encode and decode of the medium fixture, ns/op")
            .yAxisTitle("ns/op")
            .build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.addSeries("raw encode", names, rawEnc);
    chart.addSeries("Parley encode", names, ourEnc);
    chart.addSeries("raw decode", names, rawDec);
    chart.addSeries("Parley decode", names, ourDec);
    md.append('\n').append(report.chart("formats", chart));
    report.section(md.toString());
  }
}
