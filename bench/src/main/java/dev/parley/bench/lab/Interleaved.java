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
      Call raw, Call ours, int n, int window, int reps, Config.WarmUp warmUp, Progress progress)
      throws Exception {
    warmUp(raw, ours, n / 2, window, warmUp);
    return run(
        () -> Measure.closedLoop(raw, n, window),
        () -> Measure.closedLoop(ours, n, window),
        reps,
        progress);
  }

  /**
   * Closed loops of {@code n} calls, raw and ours in turn, until each side has run for the
   * warm-up's seconds and made its number of calls (at most {@link #MAX_WARM_UP_ROUNDS} rounds, and
   * no more calls once a side has run for its longest): the JIT compiles a path on background
   * threads that share the 2 vCPUs with the load, and it takes a number of calls, not a time.
   * Drivers found both sides still speeding up after tens of thousands of calls: AMQP 1.0
   * request/reply in rounds of 5,000 calls (2026-12-05, each side alone in a fresh JVM), raw from
   * 1,600 calls/s to its plateau of about 6,000 after about 35,000 calls, Parley from 1,000 to its
   * plateau of about 5,500 after about 75,000 — the side with more code to compile the later.
   * Measuring before that weighs how much code a side has, not what it costs once running.
   */
  static void warmUp(Call raw, Call ours, int n, int window, Config.WarmUp warmUp)
      throws InterruptedException {
    long least = (long) (warmUp.seconds() * 1e9);
    long most = (long) (warmUp.maxSeconds() * 1e9);
    long rawNanos = 0;
    long oursNanos = 0;
    long calls = 0;
    for (int round = 0; round < MAX_WARM_UP_ROUNDS; round++) {
      boolean timeLeft = rawNanos < least || oursNanos < least;
      boolean callsLeft = calls < warmUp.calls() && rawNanos < most && oursNanos < most;
      if (!timeLeft && !callsLeft) {
        break;
      }
      long start = System.nanoTime();
      Measure.closedLoop(raw, n, window);
      long middle = System.nanoTime();
      Measure.closedLoop(ours, n, window);
      rawNanos += middle - start;
      oursNanos += System.nanoTime() - middle;
      calls += n;
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
