package dev.parley.testing.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.error.DeadlineExceededException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.CommandHandler;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.policy.Deadline;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY.md M10 for one transport: asynchronous request/reply while responders die and late
 * replies come back. Each transport module runs it against its broker by extending it and saying
 * how to make a transport to an address.
 *
 * <p>Build size: 2,000 requests, 32 in flight, a 500 ms deadline each, one responder killed 3 times
 * (each time a new one starts, as a restarted process would), 5 % of the requests answered after
 * their deadline (the handler answers 100 ms after it). The full size is {@code
 * -Dparley.m10.requests=10000}. A responder dies in one of two ways: its TCP connections are cut by
 * a {@link FaultProxy} that then refuses new ones (the broker sees the connection die without a
 * goodbye), or it runs in a JVM of its own ({@link M10Responder}) that is killed with {@code
 * SIGKILL}. Either way the broker gives what it held to another responder.
 *
 * <p>Checked: no call gets another call's reply; every call ends by its deadline + 100 ms; every
 * slow request times out and every other one is answered in time, but for those a killed responder
 * held; replies after the deadline are dropped and counted; nothing stays pending. The 100 ms are
 * Parley's: what it takes the deadline timer to fire and the call to end, on threads that run. On 2
 * vCPUs shared with the broker and a responder JVM starting, the test's whole JVM at times waited
 * about 100 ms for a CPU (a thread asking to sleep 2 ms woke that late, with no GC pause or
 * safepoint then, 8 to 19 threads runnable), and the deadline timer with it; so the bound is the
 * deadline + 100 ms + the longest such wait in the run, measured by a thread that does only that
 * ({@link SchedulingDelay}).
 */
public abstract class RequestReplyChaos {

  /** The broker's address: responders reach it through a proxy each, the caller directly. */
  protected abstract String brokerHost();

  protected abstract int brokerPort();

  /**
   * A transport to the broker at {@code host:port} (the broker's own address or a responder's
   * proxy), quick to notice a dead connection and to try again.
   */
  protected abstract Transport newTransport(String host, int port);

  /**
   * The broker URI a responder in another JVM connects with ({@code rabbitmq://…}, {@code
   * stomp://…}, {@code amqp://…}): it finds its transport through {@code TransportProvider}.
   */
  protected abstract URI brokerUri();

  private static final Duration DEADLINE = Duration.ofMillis(500);
  private static final long SLACK_MILLIS = 100;
  private static final int IN_FLIGHT = 32;
  private static final int KILLS = 3;

  /** A request and its reply: the responder answers with the request's own number. */
  public record Ask(int number) {}

  public record Answer(int number) {}

  private final int requests = Integer.getInteger("parley.m10.requests", 2_000);
  private final List<AutoCloseable> resources = new ArrayList<>();

  /** A responder that will be killed: how many requests it holds, and how to kill it. */
  private interface Doomed {
    int inHand();

    /** Kills it; returns what proves it died the hard way. */
    String kill() throws Exception;
  }

  /** What one run did: what each kill reported, and the connections the steady one lost. */
  private record Run(List<String> kills, long steadyResets) {}

  @AfterEach
  public void tearDown() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  @Test
  public void everyCallEndsByItsDeadlineWithItsOwnReplyWhileRespondersLoseTheirConnections()
      throws Exception {
    List<FaultProxy> killed = new ArrayList<>();
    Run run =
        run(
            "proxy",
            channel -> {
              FaultProxy proxy = FaultProxy.to(brokerHost(), brokerPort());
              resources.add(proxy);
              AtomicInteger inHand = serveInThisJvm(channel, "127.0.0.1", proxy.port());
              return new Doomed() {
                @Override
                public int inHand() {
                  return inHand.get();
                }

                @Override
                public String kill() {
                  proxy.disable();
                  killed.add(proxy);
                  return "proxy cut";
                }
              };
            });
    // The faults happened: each killed responder's connections were cut.
    assertThat(run.kills()).hasSize(KILLS);
    assertThat(killed).hasSize(KILLS).allSatisfy(p -> assertThat(p.resets()).isPositive());
    assertThat(run.steadyResets()).isZero();
  }

  @Test
  public void everyCallEndsByItsDeadlineWithItsOwnReplyWhileResponderProcessesAreKilled()
      throws Exception {
    Run run =
        run(
            "process",
            channel -> {
              M10Responder.Process child = M10Responder.start(brokerUri(), channel.name());
              resources.add(child);
              return new Doomed() {
                @Override
                public int inHand() {
                  return child.inHand();
                }

                @Override
                public String kill() throws Exception {
                  return "exit " + child.kill();
                }
              };
            });
    // The faults happened: each responder JVM died of SIGKILL (exit status 128 + 9).
    assertThat(run.kills()).hasSize(KILLS).containsOnly("exit 137");
  }

  /**
   * One M10 run: a steady responder in this JVM and a doomed one made by {@code doomedResponder},
   * killed {@value #KILLS} times while it holds requests and made again each time.
   */
  private Run run(String how, Function<Channel<Ask>, Doomed> doomedResponder) throws Exception {
    String name = "m10." + how + "." + Long.toHexString(System.nanoTime());
    Channel<Ask> channel = Channel.command(name, Ask.class);
    Messaging caller = messaging("m10-caller", brokerHost(), brokerPort());
    List<String> kills = new ArrayList<>();
    int inHandAtKills = 0;
    FaultProxy steadyProxy = FaultProxy.to(brokerHost(), brokerPort());
    resources.add(steadyProxy);
    serveInThisJvm(channel, "127.0.0.1", steadyProxy.port());
    Doomed doomed = doomedResponder.apply(channel);

    // Warm-up, not measured: the reply queue, the channels and the JIT's first pass.
    for (int i = 1; i <= 20; i++) {
      assertThat(caller.request(channel, new Ask(-i), Answer.class, Duration.ofSeconds(10)))
          .succeedsWithin(Duration.ofSeconds(30));
    }

    SchedulingDelay delay = new SchedulingDelay();
    resources.add(delay);
    Semaphore window = new Semaphore(IN_FLIGHT);
    Map<Integer, Long> tookMillis = new ConcurrentHashMap<>();
    AtomicInteger mismatched = new AtomicInteger();
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger timedOut = new AtomicInteger();
    Map<String, AtomicLong> otherFailures = new ConcurrentHashMap<>();
    List<CompletableFuture<Answer>> calls = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      int inHand = doomed.inHand();
      if (kills.size() < KILLS && i >= (kills.size() + 1) * requests / (KILLS + 1) && inHand > 0) {
        // Kill the doomed responder while requests are in its hands (the load goes on until it has
        // some), then start its successor.
        inHandAtKills += inHand;
        kills.add(doomed.kill());
        doomed = doomedResponder.apply(channel);
      }
      window.acquire();
      int number = i;
      long start = System.nanoTime();
      CompletableFuture<Answer> call =
          caller.request(channel, new Ask(number), Answer.class, DEADLINE);
      calls.add(call);
      call.whenComplete(
          (answer, failure) -> {
            tookMillis.put(number, (System.nanoTime() - start) / 1_000_000);
            if (failure == null) {
              answered.incrementAndGet();
              if (answer.number() != number) {
                mismatched.incrementAndGet();
              }
            } else if (cause(failure) instanceof DeadlineExceededException) {
              timedOut.incrementAndGet();
            } else {
              otherFailures
                  .computeIfAbsent(cause(failure).toString(), k -> new AtomicLong())
                  .incrementAndGet();
            }
            window.release();
          });
    }
    CompletableFuture.allOf(
            calls.stream().map(c -> c.exceptionally(t -> null)).toArray(CompletableFuture[]::new))
        .get(60, TimeUnit.SECONDS);

    long slowest = tookMillis.values().stream().mapToLong(Long::longValue).max().orElse(0);
    long unscheduled = delay.longestMillis();
    System.out.printf(
        "M10 (%s) requests=%d answered=%d timed out=%d other=%s slowest=%d ms late=%d kills=%s"
            + " in hand at the kills=%d longest wait for a CPU=%d ms%n",
        how,
        requests,
        answered.get(),
        timedOut.get(),
        otherFailures,
        slowest,
        caller.metrics().lateReplies(),
        kills,
        inHandAtKills,
        unscheduled);

    assertThat(kills).hasSize(KILLS);
    assertThat(inHandAtKills).as("requests in the killed responders' hands").isPositive();
    assertThat(mismatched.get()).as("calls completed with another call's reply").isZero();
    assertThat(tookMillis).hasSize(requests);
    assertThat(slowest)
        .as(
            "the slowest call, ms (the deadline + %d ms + %d ms this JVM waited for a CPU at the"
                + " worst)",
            SLACK_MILLIS, unscheduled)
        .isLessThanOrEqualTo(DEADLINE.toMillis() + SLACK_MILLIS + unscheduled);
    assertThat(otherFailures).as("failures other than the deadline").isEmpty();
    // Every slow request times out; every other one is answered in time, but for those a killed
    // responder held (redelivered, they may come to the next responder past their deadline).
    int slow = (int) IntStream.range(0, requests).filter(RequestReplyChaos::isSlow).count();
    assertThat(timedOut.get())
        .as("timed out: the slow ones, at least")
        .isGreaterThanOrEqualTo(slow);
    assertThat(answered.get())
        .as("answered in time")
        .isGreaterThanOrEqualTo(requests - slow - inHandAtKills);
    // Late replies of the surviving responders arrive and are dropped, counted: one for every slow
    // request but those whose responder was killed while it held them.
    int lateAtLeast = slow - inHandAtKills;
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> caller.metrics().lateReplies() >= lateAtLeast);
    assertThat(caller.metrics().forgedReplies()).isZero();
    assertThat(caller.metrics().pendingRequests()).isZero();
    return new Run(kills, steadyProxy.resets());
  }

  /** A responder in this JVM reaching the broker at {@code host:port}; its requests in hand. */
  private AtomicInteger serveInThisJvm(Channel<Ask> channel, String host, int port) {
    Messaging m = messaging("m10-responder", host, port);
    AtomicInteger inHand = new AtomicInteger();
    m.serve(channel, handler(inHand), SubscriptionOptions.defaults().withConcurrency(32));
    return inHand;
  }

  /**
   * The responder's handler: answers with the request's number, the slow ones only once the
   * caller's deadline has passed by 100 ms; {@code inHand} counts the requests it holds.
   */
  static CommandHandler<Ask, Answer> handler(AtomicInteger inHand) {
    return (ask, ctx) -> {
      inHand.incrementAndGet();
      try {
        if (isSlow(ask.number())) {
          Deadline deadline = Deadline.current().orElseThrow();
          await()
              .atMost(Duration.ofSeconds(5))
              .pollInterval(Duration.ofMillis(10))
              .until(() -> deadline.remaining().toMillis() <= -100);
        }
        return new Answer(ask.number());
      } finally {
        inHand.decrementAndGet();
      }
    };
  }

  private Messaging messaging(String service, String host, int port) {
    Transport transport = newTransport(host, port);
    resources.add(transport);
    Messaging m =
        Messaging.builder().service(service).transport(transport).codecs(Codecs.discover()).build();
    resources.add(m);
    return m;
  }

  /**
   * The 5 % of requests the handler answers late: both parities, since a broker hands requests to
   * two consumers in turn and every other number would go to the same one.
   */
  static boolean isSlow(int number) {
    return number % 40 == 0 || number % 40 == 21;
  }

  /**
   * How late this JVM's threads get a CPU: a thread that asks to sleep 2 ms, again and again, and
   * keeps the longest it overslept. It waits for nothing else, so what it measures is the machine's
   * scheduler (and any pause of the whole JVM), not Parley.
   */
  private static final class SchedulingDelay implements AutoCloseable {
    private static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final AtomicLong longestNanos = new AtomicLong();
    private final Thread thread = new Thread(this::run, "m10-scheduling-delay");
    private volatile boolean running = true;

    SchedulingDelay() {
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      while (running) {
        long start = System.nanoTime();
        LockSupport.parkNanos(NAP_NANOS);
        long late = System.nanoTime() - start - NAP_NANOS;
        longestNanos.accumulateAndGet(late, Math::max);
      }
    }

    long longestMillis() {
      return TimeUnit.NANOSECONDS.toMillis(longestNanos.get());
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(1_000);
    }
  }

  private static Throwable cause(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }
}
