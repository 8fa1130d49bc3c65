package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RecordingHandler;
import dev.parley.testing.kit.Toxic;
import dev.parley.testing.tck.TransportTck.Command;
import dev.parley.testing.tck.TransportTck.Event;
import dev.parley.testing.tck.TransportTck.Reply;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Network faults between the AMQP transport and the broker, injected by a {@link FaultProxy}:
 * connection resets during a publish run, and a blackholed link (no RST, no data: only heartbeats
 * notice). Each test proves the fault happened (resets seen by the proxy, reconnects by the
 * client).
 */
@Timeout(120)
class AmqpTransportFaultIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

  private FaultProxy proxy;
  private AmqpTransport transport;
  private Messaging messaging;
  private Channel<Event> channel;

  @BeforeEach
  void connectThroughProxy() {
    proxy = FaultProxy.to("127.0.0.1", broker.amqpUri().getPort());
    transport =
        AmqpTransport.builder(java.net.URI.create("amqp://127.0.0.1:" + proxy.port()))
            .sendTimeout(Duration.ofSeconds(3))
            .heartbeat(Duration.ofSeconds(1))
            .reconnectDelay(Duration.ofMillis(50))
            .maxReconnectDelay(Duration.ofMillis(500))
            .build();
    messaging = Messaging.builder().service("faulty").transport(transport).build();
    channel = Channel.event("fault." + UUID.randomUUID().toString().substring(0, 8), Event.class);
  }

  @AfterEach
  void close() {
    messaging.close();
    transport.close();
    proxy.close();
  }

  @Test
  void survivesRepeatedConnectionResets() {
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    messaging.subscribe(channel, "g", handler);
    Set<Integer> confirmed = new HashSet<>();

    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 20; i++) {
        int seq = round * 20 + i;
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> messaging.publish(channel, new Event("k", seq, "")).get() != null);
        confirmed.add(seq);
      }
      long before = transport.reconnects();
      proxy.resetAll();
      await().atMost(Duration.ofSeconds(30)).until(() -> transport.reconnects() > before);
    }

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                new HashSet<>(handler.payloads().stream().map(Event::seq).toList())
                    .containsAll(confirmed));
    assertThat(proxy.resets()).isGreaterThanOrEqualTo(3);
    assertThat(transport.reconnects()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void blackholedLinkFailsSendsWithinTheBoundThenRecovers() {
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    messaging.subscribe(channel, "g", handler);
    messaging.publish(channel, new Event("k", 1, "before")).join();
    long reconnectsBefore = transport.reconnects();

    proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
    CompletableFuture<Message> during = messaging.publish(channel, new Event("k", 2, "during"));

    assertThat(during)
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(TransportException.class);
    proxy.clearToxics();
    proxy.resetAll();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> messaging.publish(channel, new Event("k", 3, "after")).get() != null);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> handler.payloads().stream().anyMatch(e -> e.seq() == 3));
    assertThat(transport.reconnects()).isGreaterThan(reconnectsBefore);
  }

  /**
   * A send the broker never settles (every byte blackholed, heartbeats slower than the send
   * timeout, so the link is not yet declared dead) fails with {@code
   * parley.transport.send_timeout}, no sooner than the timeout.
   */
  @Test
  void aSendTheBrokerNeverSettlesFailsWithTheSendTimeout() throws Exception {
    Duration sendTimeout = Duration.ofSeconds(1);
    try (AmqpTransport slowHeartbeats = slowHeartbeats(sendTimeout, 10_000)) {
      Message message = Message.builder().payload(new byte[] {1}).build();
      dev.parley.transport.spi.Destination.Queue queue =
          sentThenSilenced(slowHeartbeats, "fault.timeouts.", message);
      long start = System.nanoTime();
      Throwable failure =
          slowHeartbeats
              .send(queue, message, dev.parley.transport.spi.SendOptions.NONE)
              .handle(
                  (v, e) ->
                      e instanceof java.util.concurrent.CompletionException ? e.getCause() : e)
              .get(10, java.util.concurrent.TimeUnit.SECONDS);
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(failure)
          .isInstanceOfSatisfying(
              TransportException.class,
              e ->
                  assertThat(e.status().errorCode())
                      .isEqualTo(dev.parley.transport.spi.Transport.SEND_TIMEOUT));
      assertThat(elapsedMillis).isGreaterThanOrEqualTo(sendTimeout.toMillis() - 5);
      proxy.clearToxics();
      proxy.resetAll(); // so that closing does not wait on the silent link
    }
  }

  /**
   * M11's bounded memory: while the link is silent, at most {@code maxPendingSends} sends wait for
   * the broker; a send beyond them fails at once with {@code parley.transport.backlog_full} instead
   * of queueing (before: every send queued for the send thread for as long as the link stayed
   * down). After the link heals, sends are accepted again.
   */
  @Test
  void aSilentLinkBoundsTheSendsWaitingForIt() throws Exception {
    int max = 500;
    int sends = 5_000;
    try (AmqpTransport bounded = slowHeartbeats(Duration.ofSeconds(2), max)) {
      Message message = Message.builder().payload(new byte[1024]).build();
      dev.parley.transport.spi.Destination.Queue queue =
          sentThenSilenced(bounded, "fault.bounded.", message);
      java.util.List<CompletableFuture<Void>> futures = new java.util.ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < sends; i++) {
        futures.add(
            bounded.send(
                queue,
                Message.builder().payload(new byte[1024]).build(),
                dev.parley.transport.spi.SendOptions.NONE));
      }
      long loopMillis = (System.nanoTime() - start) / 1_000_000;
      long refusedAtOnce =
          futures.stream()
              .filter(
                  f ->
                      f.isCompletedExceptionally()
                          && code(f).equals("parley.transport.backlog_full"))
              .count();
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
          .handle((v, e) -> null)
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
      java.util.Map<String, Long> codes =
          futures.stream()
              .collect(
                  java.util.stream.Collectors.groupingBy(
                      AmqpTransportFaultIT::code,
                      java.util.TreeMap::new,
                      java.util.stream.Collectors.counting()));
      System.out.printf(
          "bounded sends: %d sent in %d ms, %d refused at once, outcomes %s%n",
          sends, loopMillis, refusedAtOnce, codes);

      assertThat(loopMillis).as("the loop ran within the send timeout").isLessThan(2_000);
      assertThat(refusedAtOnce).as("refused without queueing").isGreaterThanOrEqualTo(sends - max);
      assertThat(codes.keySet())
          .isSubsetOf(
              "parley.transport.backlog_full",
              dev.parley.transport.spi.Transport.SEND_TIMEOUT,
              "parley.transport.connection_lost");

      proxy.clearToxics();
      proxy.resetAll();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () ->
                  bounded
                          .send(queue, message, dev.parley.transport.spi.SendOptions.NONE)
                          .get(5, java.util.concurrent.TimeUnit.SECONDS)
                      == null);
    }
  }

  /**
   * An operation the broker never answers (every byte blackholed, heartbeats slower than the test)
   * fails after the transport's bound instead of waiting for as long as the link stays silent (Qpid
   * JMS waits for a resource's creation without limit unless told otherwise); then the transport
   * closes within its close bound.
   */
  @Test
  void aSubscribeAndACloseTheBrokerNeverAnswersEndWithinTheirBounds() throws Exception {
    Duration sendTimeout = Duration.ofSeconds(1);
    AmqpTransport silent = slowHeartbeats(sendTimeout, 10_000);
    Message message = Message.builder().payload(new byte[] {1}).build();
    dev.parley.transport.spi.Destination.Queue queue =
        sentThenSilenced(silent, "fault.silent.", message);
    // The fault: a send is no longer settled.
    CompletableFuture<Void> unsettled =
        silent.send(queue, message, dev.parley.transport.spi.SendOptions.NONE);
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofMillis(800))
        .until(() -> !unsettled.isDone());

    long start = System.nanoTime();
    CompletableFuture<Object> subscribed =
        CompletableFuture.supplyAsync(
            () ->
                silent.subscribe(
                    queue,
                    new dev.parley.transport.spi.ConsumerSettings(1, 10, false),
                    dev.parley.transport.spi.DeliveryHandler.settling(
                        d -> CompletableFuture.completedFuture(null))));
    Throwable failure =
        subscribed
            .handle(
                (v, e) -> e instanceof java.util.concurrent.CompletionException ? e.getCause() : e)
            .get(20, java.util.concurrent.TimeUnit.SECONDS);
    long subscribeMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(failure)
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> assertThat(e.errorCode()).isEqualTo("parley.transport.unavailable"));
    assertThat(subscribeMillis)
        .isGreaterThanOrEqualTo(REQUEST_TIMEOUT.toMillis() - 5)
        .isLessThan(REQUEST_TIMEOUT.toMillis() + 3_000);

    start = System.nanoTime();
    CompletableFuture.runAsync(silent::close).get(20, java.util.concurrent.TimeUnit.SECONDS);
    long closeMillis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf(
        "silent link: subscribe failed after %d ms (%s), close took %d ms%n",
        subscribeMillis, failure, closeMillis);
    assertThat(closeMillis).isLessThan(5_000);
    proxy.clearToxics(); // so that the other transport on the proxy closes at once
  }

  /**
   * An idle subscription asks nothing of the broker. Qpid JMS's timed receive, finding nothing,
   * drains the link at the broker and waits for the answer: the receive loop polled so every 100
   * ms, a round trip per subscription (measured with the embedded broker in process: 10 idle
   * subscriptions cost 12 % of a core, against 0.6–1.0 % without). The proxy counts what the client
   * sends while four subscriptions that handled messages sit idle; heart-beats (1 s here) are a few
   * bytes each.
   */
  @Test
  void anIdleSubscriptionSendsNothingToTheBroker() throws Exception {
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    for (String group : new String[] {"a", "b", "c", "d"}) {
      messaging.subscribe(channel, group, handler);
    }
    for (int i = 0; i < 5; i++) {
      messaging.publish(channel, new Event("k", i, "idle")).get();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> handler.callCount() == 20);
    // the acknowledgements out: the count stops moving (it never did with the polling loop)
    long[] last = {-1};
    await()
        .pollInterval(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              long now = proxy.upstreamBytes();
              boolean quiet = now - last[0] < 50;
              last[0] = now;
              return quiet;
            });
    long before = proxy.upstreamBytes();
    long started = System.nanoTime();
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .until(() -> proxy.upstreamBytes() - before < 200);
    long sent = proxy.upstreamBytes() - before;
    double seconds = (System.nanoTime() - started) / 1e9;
    // heart-beats: an empty AMQP frame is 8 bytes, about two a second at a 1 s idle timeout
    assertThat(sent)
        .as("bytes the client sent in %.1f s while 4 subscriptions were idle", seconds)
        .isLessThan(200);
  }

  /**
   * A service stopped while its broker is down: no settlement and no send can reach the broker,
   * which has every unsettled delivery back already, so closing its messaging and its transport
   * ends at once instead of waiting out the close bound (20 s here) — for a consumer loop held in
   * Qpid JMS's timed receive until the connection is back, for a delivery still being handled, and
   * for a send queued in the outage, which would hold the send thread until its timeout.
   */
  @Test
  void closingWhileTheBrokerIsDownDoesNotWaitOutTheCloseBound() throws Exception {
    AmqpTransport down =
        AmqpTransport.builder(java.net.URI.create("amqp://127.0.0.1:" + proxy.port()))
            .sendTimeout(Duration.ofSeconds(15))
            .heartbeat(Duration.ofSeconds(1))
            .reconnectDelay(Duration.ofMillis(50))
            .maxReconnectDelay(Duration.ofMillis(500))
            .closeTimeout(Duration.ofSeconds(20))
            .build();
    Messaging stopping = Messaging.builder().service("stopping").transport(down).build();
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    stopping.subscribe(channel, "g", handler);
    stopping.subscribe(channel, "h", handler);
    // A third group's delivery is still being handled when the broker goes away.
    CompletableFuture<Void> stillHandling = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger handling =
        new java.util.concurrent.atomic.AtomicInteger();
    stopping.subscribeAsync(
        channel,
        "slow",
        (event, ctx) -> {
          handling.incrementAndGet();
          return stillHandling;
        },
        dev.parley.messaging.SubscriptionOptions.defaults());
    stopping.publish(channel, new Event("k", 1, "before")).join();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> handler.payloads().size() == 2 && handling.get() == 1);
    Set<Thread> loopsBefore = consumerLoops();

    // The fault: the broker goes away (connections reset, new ones refused); a send is queued.
    proxy.disable();
    await().atMost(Duration.ofSeconds(10)).until(() -> !down.isConnected());
    CompletableFuture<Message> queued = stopping.publish(channel, new Event("k", 2, "during"));
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(2))
        .until(() -> !queued.isDone() && !down.isConnected());
    assertThat(proxy.resets()).isPositive();

    long start = System.nanoTime();
    CompletableFuture.runAsync(
            () -> {
              stopping.close();
              down.close();
            })
        .get(60, java.util.concurrent.TimeUnit.SECONDS);
    long closeMillis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("broker down: messaging and transport closed in %d ms%n", closeMillis);
    assertThat(closeMillis).isLessThan(5_000);
    assertThat(stillHandling).isNotDone();
    stillHandling.complete(null);
    assertThat(queued)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(TransportException.class);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> consumerLoops().stream().noneMatch(loopsBefore::contains));
    proxy.enable();
  }

  /**
   * The broker closes a subscription's consumers while the connection stays up (an operator's
   * "close consumer"): the link is detached, and the subscription attaches new consumers and
   * handles what comes after. Before, Qpid JMS closed the consumer for good and the receive loop
   * retried the closed consumer forever, logging at debug only: a service that stopped consuming
   * with its connection up.
   */
  @Test
  void consumersTheBrokerClosesConsumeAgain() {
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    messaging.subscribe(channel, "g", handler);
    String queue = queueOf(channel);
    int consumers = broker.broker().consumerCount(queue);
    assertThat(consumers).isPositive();
    publishAndAwait(handler, 0, 5);

    assertThat(broker.broker().closeConsumers(queue)).isEqualTo(consumers);

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> broker.broker().consumerCount(queue) == consumers);
    publishAndAwait(handler, 5, 10);
    assertThat(transport.reconnects()).isZero(); // the connection never dropped
  }

  /**
   * The broker closes every session of the connection while the connection stays up (an operator's
   * "close session"): the transport sends on a new session, the subscription attaches its consumer
   * on a new one, and a responder replies on a new one. Before, every send failed for good ("The
   * Session was closed due to an unrecoverable error"), and every request a responder took was
   * released for want of a reply session, again and again.
   */
  @Test
  void sessionsTheBrokerClosesAreOpenedAgain() {
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    messaging.subscribe(channel, "g", handler);
    Channel<Command> commands = Channel.command(channel.name() + ".commands", Command.class);
    messaging.serve(
        commands,
        (Command c, dev.parley.messaging.MessageContext ctx) -> new Reply(c.text(), c.number()));
    publishAndAwait(handler, 0, 3);
    assertThat(ask(commands, new Command("a", 1)).join()).isEqualTo(new Reply("a", 1));

    // the sends', the subscription's, the responder's and its replies' sessions at least
    assertThat(broker.broker().closeSessions()).isGreaterThanOrEqualTo(4);

    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> messaging.publish(channel, new Event("k", 100, "")).get() != null);
    publishAndAwait(handler, 3, 6);
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> ask(commands, new Command("b", 2)).get().equals(new Reply("b", 2)));
    assertThat(transport.reconnects()).isZero();
  }

  private CompletableFuture<Reply> ask(Channel<Command> commands, Command command) {
    return messaging.request(commands, command, Reply.class, REQUEST_TIMEOUT);
  }

  /** The one queue of the broker's whose name starts with the channel's name. */
  private static String queueOf(Channel<?> channel) {
    List<String> queues =
        broker.broker().queueNames().stream().filter(q -> q.startsWith(channel.name())).toList();
    assertThat(queues).hasSize(1);
    return queues.get(0);
  }

  /** Publishes events {@code from} (inclusive) to {@code to} and waits until each was handled. */
  private void publishAndAwait(RecordingHandler<Event> handler, int from, int to) {
    for (int i = from; i < to; i++) {
      messaging.publish(channel, new Event("k" + i, i, "")).join();
    }
    Set<Integer> expected = new HashSet<>();
    for (int i = from; i < to; i++) {
      expected.add(i);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> handler.payloads().stream().map(Event::seq).toList().containsAll(expected));
  }

  /** The transport's consumer loop threads alive now. */
  private static Set<Thread> consumerLoops() {
    Set<Thread> loops = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("parley-amqp-consumer-") && t.isAlive()) {
        loops.add(t);
      }
    }
    return loops;
  }

  /**
   * Sends {@code message} to a new queue named from {@code prefix} and waits for the broker to take
   * it (the link works), then makes the link silent: every byte blackholed, both ways.
   */
  private dev.parley.transport.spi.Destination.Queue sentThenSilenced(
      AmqpTransport transport, String prefix, Message message) {
    dev.parley.transport.spi.Destination.Queue queue =
        new dev.parley.transport.spi.Destination.Queue(
            prefix + UUID.randomUUID().toString().substring(0, 8));
    transport.send(queue, message, dev.parley.transport.spi.SendOptions.NONE).join();
    proxy.add(Toxic.timeout(Toxic.Direction.BOTH));
    return queue;
  }

  /**
   * A transport through the proxy whose heartbeats (30 s) are slower than its send timeout, so a
   * silent link is not declared dead before the sends on it time out.
   */
  private AmqpTransport slowHeartbeats(Duration sendTimeout, int maxPendingSends) {
    return AmqpTransport.builder(java.net.URI.create("amqp://127.0.0.1:" + proxy.port()))
        .sendTimeout(sendTimeout)
        .heartbeat(Duration.ofSeconds(30))
        .maxPendingSends(maxPendingSends)
        .reconnectDelay(Duration.ofMillis(50))
        .maxReconnectDelay(Duration.ofMillis(500))
        .closeTimeout(Duration.ofSeconds(1))
        .requestTimeout(REQUEST_TIMEOUT)
        .build();
  }

  private static String code(CompletableFuture<Void> f) {
    Throwable t = f.handle((v, e) -> e).join();
    if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t == null
        ? "ok"
        : t instanceof TransportException e ? e.status().errorCode() : t.getClass().getName();
  }
}
