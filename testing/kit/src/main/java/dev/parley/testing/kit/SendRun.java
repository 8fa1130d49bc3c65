package dev.parley.testing.kit;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/**
 * A publish run for broker-fault tests, with its history: {@code messages} sends to one destination
 * on a thread of its own, at most {@code window} unconfirmed at a time, bounded in time; each
 * message id's outcome is recorded ({@code ok} when the transport confirmed it, {@code failed} when
 * it failed the send — the outcome of those is unknown: they may have arrived). While the transport
 * is disconnected after a failure, the run waits for it instead of failing every remaining send at
 * once.
 */
public final class SendRun {

  /** What became of one send. */
  public enum Outcome {
    PENDING,
    OK,
    FAILED
  }

  private final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
  private final AtomicInteger confirmed = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final Map<String, AtomicInteger> failureCodes = new ConcurrentHashMap<>();
  private final List<CompletableFuture<Void>> sends = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> loop;
  private volatile boolean stopped;

  private SendRun(
      Transport transport,
      Destination destination,
      int messages,
      int window,
      int perSecond,
      Duration limit,
      BooleanSupplier connected) {
    Semaphore slots = new Semaphore(window);
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    long period = perSecond > 0 ? 1_000_000_000L / perSecond : 0;
    loop =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; i < messages && !stopped && System.nanoTime() < deadline; i++) {
                if (failed.get() > 0 && !connected.getAsBoolean()) {
                  Awaitility.await()
                      .atMost(Duration.ofSeconds(60))
                      .until(() -> stopped || connected.getAsBoolean());
                }
                if (period > 0) {
                  // a rate, not a synchronisation: the next send's time on the run's schedule
                  long wait = start + i * period - System.nanoTime();
                  if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                  }
                }
                slots.acquireUninterruptibly();
                Message m =
                    Message.builder()
                        .payload(("m" + i).getBytes(StandardCharsets.US_ASCII))
                        .build();
                outcomes.put(m.id(), Outcome.PENDING);
                sends.add(
                    transport
                        .send(destination, m, SendOptions.NONE)
                        .whenComplete(
                            (ok, error) -> {
                              slots.release();
                              outcomes.put(m.id(), error == null ? Outcome.OK : Outcome.FAILED);
                              (error == null ? confirmed : failed).incrementAndGet();
                              if (error != null) {
                                failureCodes
                                    .computeIfAbsent(code(error), c -> new AtomicInteger())
                                    .incrementAndGet();
                              }
                            }));
              }
            });
  }

  /** Starts the run. {@code connected} tells whether the transport is connected right now. */
  public static SendRun start(
      Transport transport,
      Destination destination,
      int messages,
      int window,
      Duration limit,
      BooleanSupplier connected) {
    return new SendRun(transport, destination, messages, window, 0, limit, connected);
  }

  /**
   * As {@link #start}, at most {@code perSecond} sends a second (the run's sends spread over the
   * time its kills take).
   */
  public static SendRun startPaced(
      Transport transport,
      Destination destination,
      int messages,
      int window,
      int perSecond,
      Duration limit,
      BooleanSupplier connected) {
    return new SendRun(transport, destination, messages, window, perSecond, limit, connected);
  }

  /** Ends the run before its count: no send starts after this; those made go on to their end. */
  public void stop() {
    stopped = true;
  }

  /** Sends confirmed so far. */
  public int confirmed() {
    return confirmed.get();
  }

  /** Sends failed so far. */
  public int failed() {
    return failed.get();
  }

  /**
   * Waits for the loop and every send it made to finish; if they do not within {@code timeout},
   * prints every thread's stack (where a send or the loop hangs) and fails saying what was left.
   */
  public void await(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      loop.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
          .exceptionally(e -> null)
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      StringBuilder threads = new StringBuilder("SendRun: threads when the run did not end\n");
      Thread.getAllStackTraces()
          .forEach(
              (thread, stack) -> {
                threads.append('"').append(thread.getName()).append("\" ");
                threads.append(thread.getState()).append('\n');
                for (StackTraceElement frame : stack) {
                  threads.append("    at ").append(frame).append('\n');
                }
              });
      System.out.println(threads);
      long pending = outcomes.values().stream().filter(o -> o == Outcome.PENDING).count();
      throw new AssertionError(
          "the run did not end within "
              + timeout
              + ": loop "
              + (loop.isDone() ? "done" : "still running")
              + ", "
              + pending
              + " sends without an outcome, "
              + confirmed.get()
              + " confirmed, "
              + failed.get()
              + " failed "
              + failureCodes()
              + " (threads printed)",
          e);
    }
  }

  /**
   * How many sends failed with each error code: a {@link TransportException}'s code, else the
   * failure's class name (an untyped failure).
   */
  public Map<String, Integer> failureCodes() {
    Map<String, Integer> codes = new java.util.TreeMap<>();
    failureCodes.forEach((code, n) -> codes.put(code, n.get()));
    return codes;
  }

  private static String code(Throwable error) {
    Throwable t =
        error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause()
            : error;
    return t instanceof TransportException e ? e.status().errorCode() : t.getClass().getName();
  }

  /**
   * What a consumer found in the run's queue afterwards: distinct ids {@code consumed}, ids that
   * were never sent ({@code invented}), ids seen again ({@code duplicates}, which an inbox skips),
   * and failed sends that arrived all the same ({@code failedButArrived}: the unknown outcomes).
   */
  public record Drained(int consumed, int invented, int duplicates, long failedButArrived) {}

  /**
   * After {@link #await}: consumes {@code queue} until every confirmed send has arrived (within
   * {@code timeout}, else an assertion error names what is missing) and reports what came. Ids
   * {@code ignored} (a declaration message sent before the run) are not counted.
   */
  public Drained drain(
      Transport transport,
      dev.parley.transport.spi.Destination.Queue queue,
      Duration timeout,
      java.util.Set<String> ignored) {
    Map<String, Outcome> sent = outcomes();
    java.util.Set<String> consumed = ConcurrentHashMap.newKeySet();
    AtomicInteger invented = new AtomicInteger();
    AtomicInteger duplicates = new AtomicInteger();
    dev.parley.transport.spi.TransportSubscription subscription =
        transport.subscribe(
            queue,
            new dev.parley.transport.spi.ConsumerSettings(1, 200, false),
            dev.parley.transport.spi.DeliveryHandler.settling(
                d -> {
                  String id = d.message().id();
                  if (!ignored.contains(id)) {
                    if (!sent.containsKey(id)) {
                      invented.incrementAndGet();
                    }
                    if (!consumed.add(id)) {
                      duplicates.incrementAndGet();
                    }
                  }
                  return CompletableFuture.completedFuture(null);
                }));
    List<String> confirmedIds = confirmedIds();
    try {
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> consumed.containsAll(confirmedIds));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      List<String> missing = confirmedIds.stream().filter(id -> !consumed.contains(id)).toList();
      throw new AssertionError(
          missing.size()
              + " confirmed sends not consumed within "
              + timeout
              + ", among them "
              + missing.subList(0, Math.min(5, missing.size())),
          e);
    } finally {
      subscription.close();
    }
    long failedButArrived =
        sent.entrySet().stream()
            .filter(e -> e.getValue() == Outcome.FAILED && consumed.contains(e.getKey()))
            .count();
    return new Drained(consumed.size(), invented.get(), duplicates.get(), failedButArrived);
  }

  /** Every message id sent, with its outcome. */
  public Map<String, Outcome> outcomes() {
    return Map.copyOf(outcomes);
  }

  /** Ids of the confirmed sends. */
  public List<String> confirmedIds() {
    return outcomes.entrySet().stream()
        .filter(e -> e.getValue() == Outcome.OK)
        .map(Map.Entry::getKey)
        .toList();
  }
}
