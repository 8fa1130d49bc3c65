package dev.parley.bench.lab;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** The lab's ways of loading a call and reading the result. */
final class Measure {

  /** Calls still unanswered after this long fail the run: nothing in the lab waits for ever. */
  static final long STALL_SECONDS = 30;

  private Measure() {}

  /** One asynchronous call: a request and its reply, or a publish and its consumption. */
  @FunctionalInterface
  interface Call extends Supplier<CompletableFuture<?>> {}

  /**
   * Throughput, CPU and context switches of one closed-loop run, this process's (client and server
   * of the pair; not the broker's).
   */
  record Throughput(double perSecond, double cpuMicrosPerOp, double switchesPerOp) {}

  /** Percentiles (µs) of one open-loop run, measured from each call's intended start. */
  /**
   * Percentiles (µs) of one open-loop run, measured from each call's intended start; {@code
   * refused} calls were turned away by the server's overload protection (RESOURCE_EXHAUSTED) and
   * have no latency.
   */
  record Latency(double p50, double p99, double p999, long count, long refused) {}

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** {@code n} calls, at most {@code window} unanswered at any time. */
  static Throughput closedLoop(Call call, int n, int window) throws InterruptedException {
    Semaphore permits = new Semaphore(window);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long switches = contextSwitches();
    long start = System.nanoTime();
    long cpu = cpuNanos();
    for (int i = 0; i < n; i++) {
      if (!permits.tryAcquire(STALL_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("no call completed in " + STALL_SECONDS + " s");
      }
      call.get()
          .whenComplete(
              (v, e) -> {
                if (e != null) {
                  failure.compareAndSet(null, e);
                }
                permits.release();
              });
    }
    if (!permits.tryAcquire(window, STALL_SECONDS, TimeUnit.SECONDS)) {
      throw new IllegalStateException("calls still unanswered after " + STALL_SECONDS + " s");
    }
    long elapsed = System.nanoTime() - start;
    long used = cpuNanos() - cpu;
    long switched = contextSwitches() - switches;
    if (failure.get() != null) {
      throw new IllegalStateException("a call failed", failure.get());
    }
    return new Throughput(n * 1e9 / elapsed, used / 1000.0 / n, (double) switched / n);
  }

  /**
   * Open loop: calls start at a fixed {@code rate} for {@code seconds}, whether or not earlier ones
   * have been answered, and each latency runs from the call's <em>intended</em> start, so a stall
   * shows as the queue of calls it delayed (no coordinated omission). At most {@code
   * maxOutstanding} calls may be unanswered; beyond that the run stops early, and its count says
   * how many calls it started.
   */
  static Latency openLoop(Call call, double rate, double seconds, int maxOutstanding)
      throws InterruptedException {
    Recorder recorder = new Recorder(3);
    long interval = (long) (1e9 / rate);
    long total = (long) (rate * seconds);
    AtomicLong outstanding = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicLong refused = new AtomicLong();
    long start = System.nanoTime();
    long sent = 0;
    for (; sent < total; sent++) {
      long intended = start + sent * interval;
      long wait;
      while ((wait = intended - System.nanoTime()) > 0) {
        if (wait > 100_000) {
          LockSupport.parkNanos(wait - 50_000);
        } else {
          Thread.onSpinWait();
        }
      }
      if (outstanding.get() >= maxOutstanding || failure.get() != null) {
        break;
      }
      outstanding.incrementAndGet();
      call.get()
          .whenComplete(
              (v, e) -> {
                if (e != null && isOverload(e)) {
                  refused.incrementAndGet(); // shed by the server: counted, not a failure
                } else if (e != null) {
                  failure.compareAndSet(null, e);
                } else {
                  recorder.recordValue(Math.max(1, (System.nanoTime() - intended) / 1000));
                }
                outstanding.decrementAndGet();
              });
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STALL_SECONDS);
    while (outstanding.get() > 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    if (failure.get() != null) {
      throw new IllegalStateException("a call failed", failure.get());
    }
    if (outstanding.get() > 0) {
      throw new IllegalStateException(
          outstanding.get() + " calls unanswered " + STALL_SECONDS + " s after the last start");
    }
    Histogram h = recorder.getIntervalHistogram();
    return new Latency(
        h.getValueAtPercentile(50),
        h.getValueAtPercentile(99),
        h.getValueAtPercentile(99.9),
        h.getTotalCount(),
        refused.get());
  }

  /**
   * Whether a call failed because the server was at its limit of calls: RESOURCE_EXHAUSTED, as a
   * Parley client reports it or as a grpc-java stub does.
   */
  private static boolean isOverload(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof dev.parley.error.ParleyException p
          && p.status().code() == dev.parley.error.Code.RESOURCE_EXHAUSTED) {
        return true;
      }
      if (t instanceof io.grpc.StatusRuntimeException s
          && s.getStatus().getCode() == io.grpc.Status.Code.RESOURCE_EXHAUSTED) {
        return true;
      }
    }
    return false;
  }

  /** Median of one-at-a-time calls (µs): the latency floor of a binding. */
  static double sequentialP50(Call call, int n) throws Exception {
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      call.get().get(STALL_SECONDS, TimeUnit.SECONDS);
      nanos[i] = System.nanoTime() - start;
    }
    java.util.Arrays.sort(nanos);
    return nanos[n / 2] / 1000.0;
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static double min(List<Double> values) {
    return Collections.min(values);
  }

  static double max(List<Double> values) {
    return Collections.max(values);
  }

  /**
   * Context switches of this process's threads so far (voluntary and not, from {@code
   * /proc/self/task/<tid>/status}; threads that ended are not counted, so a run counts the threads
   * alive at its end). 0 where there is no such file.
   */
  static long contextSwitches() {
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return 0;
    }
    long sum = 0;
    for (java.io.File task : tasks) {
      try {
        for (String line :
            java.nio.file.Files.readAllLines(new java.io.File(task, "status").toPath())) {
          if (line.startsWith("voluntary_ctxt_switches:")
              || line.startsWith("nonvoluntary_ctxt_switches:")) {
            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
      } catch (java.io.IOException | NumberFormatException e) {
        // the thread ended meanwhile
      }
    }
    return sum;
  }

  /** Bytes this thread has allocated so far (HotSpot). */
  static long allocatedBytes() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getCurrentThreadAllocatedBytes();
  }
}
