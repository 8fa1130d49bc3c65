package dev.parley.bench.lab;

import dev.parley.bench.lab.Measure.Call;
import dev.parley.bench.lab.Measure.Latency;
import dev.parley.bench.lab.Measure.Throughput;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Raw and Parley run alternately (raw, Parley, raw, Parley …), repetition after repetition. */
final class Interleaved {

  private Interleaved() {}

  /** One side's run, whatever it measures. */
  @FunctionalInterface
  interface Side<R> {
    R run() throws Exception;
  }

  /** The repetitions of a pair, in the order they ran. */
  record Runs<R>(List<R> raw, List<R> ours) {

    List<Double> ratios(Function<R, Double> value) {
      List<Double> r = new ArrayList<>();
      for (int i = 0; i < raw.size(); i++) {
        r.add(value.apply(ours.get(i)) / value.apply(raw.get(i)));
      }
      return r;
    }

    List<Double> differences(Function<R, Double> value) {
      List<Double> r = new ArrayList<>();
      for (int i = 0; i < raw.size(); i++) {
        r.add(value.apply(ours.get(i)) - value.apply(raw.get(i)));
      }
      return r;
    }

    double rawMedian(Function<R, Double> value) {
      return Measure.median(raw.stream().map(value).toList());
    }

    double oursMedian(Function<R, Double> value) {
      return Measure.median(ours.stream().map(value).toList());
    }
  }

  static <R> Runs<R> run(Side<R> raw, Side<R> ours, int reps, Progress progress) throws Exception {
    List<R> raws = new ArrayList<>();
    List<R> oursList = new ArrayList<>();
    for (int i = 0; i < reps; i++) {
      raws.add(raw.run());
      progress.step();
      oursList.add(ours.run());
      progress.step();
    }
    return new Runs<>(raws, oursList);
  }

  static Runs<Throughput> throughput(
      Call raw, Call ours, int n, int window, int reps, double warmUpSeconds, Progress progress)
      throws Exception {
    warmUp(raw, ours, n / 2, window, warmUpSeconds);
    return run(
        () -> Measure.closedLoop(raw, n, window),
        () -> Measure.closedLoop(ours, n, window),
        reps,
        progress);
  }

  /**
   * Closed loops of {@code n} calls, raw and ours in turn, until each side has run for {@code
   * seconds} (at most {@link #MAX_WARM_UP_ROUNDS} rounds): the JIT compiles a path on background
   * threads that share the 2 vCPUs with the load, and a driver (2026-12-03) found both sides still
   * speeding up after tens of thousands of calls (AMQP 1.0 request/reply, rounds of 8,000 calls:
   * raw from 3,900 to about 6,000 calls/s, Parley from 2,900 to about 5,500 over ten rounds), the
   * side with more code to compile the later. Measuring before that weighs how much code a side
   * has, not what it costs once running.
   */
  static void warmUp(Call raw, Call ours, int n, int window, double seconds)
      throws InterruptedException {
    long budget = (long) (seconds * 1e9);
    long rawNanos = 0;
    long oursNanos = 0;
    for (int round = 0;
        round < MAX_WARM_UP_ROUNDS && (rawNanos < budget || oursNanos < budget);
        round++) {
      long start = System.nanoTime();
      Measure.closedLoop(raw, n, window);
      long middle = System.nanoTime();
      Measure.closedLoop(ours, n, window);
      rawNanos += middle - start;
      oursNanos += System.nanoTime() - middle;
    }
  }

  static final int MAX_WARM_UP_ROUNDS = 100;

  static Runs<Latency> openLoop(
      Call raw, Call ours, double rate, double seconds, int reps, Progress progress)
      throws Exception {
    int maxOutstanding = (int) Math.max(1_000, rate * 2);
    return run(
        () -> Measure.openLoop(raw, rate, seconds, maxOutstanding),
        () -> Measure.openLoop(ours, rate, seconds, maxOutstanding),
        reps,
        progress);
  }

  static Runs<Double> oneInFlight(Call raw, Call ours, int n, int reps, Progress progress)
      throws Exception {
    return run(
        () -> Measure.sequentialP50(raw, n), () -> Measure.sequentialP50(ours, n), reps, progress);
  }
}
