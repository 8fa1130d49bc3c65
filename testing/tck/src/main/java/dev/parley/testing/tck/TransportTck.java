package dev.parley.testing.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.RemoteException;
import dev.parley.error.TransportException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.Subscription;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.kit.RecordingHandler;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.HandlerThread;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The conformance suite every {@link Transport} passes. Extend it, connect {@link #newTransport()}
 * to the broker under test, and give the suite control of that broker's life:
 *
 * <pre>{@code
 * class AmqpTransportTckIT extends TransportTck {
 *   @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();
 *   @Override protected Transport newTransport() { return AmqpTransport.builder(broker.amqpUri()).build(); }
 *   ...
 * }
 * }</pre>
 *
 * The test class path needs a JSON codec ({@code parley-codec-json}): payloads are plain records.
 * Each test uses channel names of its own, so tests never see each other's messages. The
 * transport's send timeout should be a few seconds, so the broker-down scenario stays short.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class TransportTck {

  /** A small event payload. */
  public record Event(String key, int seq, String text) {}

  /** A command and its reply. */
  public record Command(String text, int number) {}

  public record Reply(String text, int number) {}

  protected static final Duration WAIT = Duration.ofSeconds(30);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private String prefix;

  /** A new transport connected to the broker under test; the suite closes it. */
  protected abstract Transport newTransport();

  /** Stops the broker, keeping its durable state. */
  protected abstract void stopBroker();

  /** Starts the broker again on the same address and state. */
  protected abstract void startBroker();

  /** How often {@code transport} has reconnected, the client-side evidence of a broker restart. */
  protected abstract long reconnects(Transport transport);

  /** Whether {@code transport} holds a working connection to the broker now. */
  protected abstract boolean isConnected(Transport transport);

  /** Connections the broker holds open right now (for the leak check). */
  protected abstract int brokerConnectionCount();

  /**
   * Sends a message to queue {@code queue} (a command channel's queue) as a foreign client of the
   * broker's protocol would: with exactly these headers as application properties / headers (any
   * name, any value, in this order) and this body. Implementations use a raw client, not Parley, so
   * that headers Parley itself would never write reach the consumer. The send is complete (the
   * broker has the message) when this returns.
   */
  protected abstract void sendRaw(
      String queue, List<Map.Entry<String, String>> headers, byte[] body) throws Exception;

  /**
   * Deletes {@code group}'s queue on the broker as an operator does, closing its consumers, after
   * checking that it exists with a consumer (the evidence of the fault).
   */
  protected abstract void deleteQueue(Destination.GroupQueue group) throws Exception;

  @BeforeEach
  void uniquePrefix() {
    prefix = "tck." + UUID.randomUUID().toString().substring(0, 8) + ".";
  }

  @AfterEach
  void closeResources() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    resources.clear();
  }

  // ---- publish/subscribe -------------------------------------------------------------------

  @Test
  void everyGroupGetsEveryEvent() {
    Messaging m = messaging("fanout");
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> kitchen = RecordingHandler.succeeding();
    RecordingHandler<Event> billing = RecordingHandler.succeeding();
    m.subscribe(channel, "kitchen", kitchen);
    m.subscribe(channel, "billing", billing);

    publishAll(m, channel, 20);

    await().atMost(WAIT).until(() -> kitchen.callCount() == 20 && billing.callCount() == 20);
    assertThat(seqs(kitchen)).containsExactlyInAnyOrderElementsOf(range(20));
    assertThat(seqs(billing)).containsExactlyInAnyOrderElementsOf(range(20));
  }

  @Test
  void membersOfOneGroupCompete() {
    Messaging m = messaging("compete");
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> first = RecordingHandler.succeeding();
    RecordingHandler<Event> second = RecordingHandler.succeeding();
    SubscriptionOptions oneAtATime = fast().withPrefetch(1);
    m.subscribe(channel, "workers", first, oneAtATime);
    m.subscribe(channel, "workers", second, oneAtATime);

    publishAll(m, channel, 40);

    await().atMost(WAIT).until(() -> first.callCount() + second.callCount() == 40);
    List<Integer> all = new ArrayList<>(seqs(first));
    all.addAll(seqs(second));
    assertThat(all).containsExactlyInAnyOrderElementsOf(range(40));
    assertThat(first.callCount()).isPositive();
    assertThat(second.callCount()).isPositive();
  }

  @Test
  void publishCompletesWithTheSentMessage() {
    Messaging m = messaging("publisher");
    Channel<Event> channel =
        Channel.event(name("events"), Event.class).withMessageType("tck.Event");

    Message sent = m.publish(channel, new Event("k", 1, "hello")).join();

    assertThat(sent.headers())
        .containsEntry(Headers.TYPE, "tck.Event")
        .containsEntry(Headers.CONTENT_TYPE, "application/json")
        .containsEntry(Headers.SOURCE, "publisher")
        .containsKey(Headers.ID)
        .doesNotContainKey(Headers.CHANNEL); // the subscriber knows its channel (wire.md)
    assertThat(m.metrics().sent()).isEqualTo(1);
  }

  // ---- commands ----------------------------------------------------------------------------

  @Test
  void commandIsHandledByOneConsumer() {
    Messaging m = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    Map<Integer, Integer> handled = new ConcurrentHashMap<>();
    for (int i = 0; i < 2; i++) {
      m.serve(
          channel,
          (Command c, dev.parley.messaging.MessageContext ctx) ->
              handled.merge(c.number(), 1, Integer::sum),
          fast().withPrefetch(1));
    }

    for (int i = 0; i < 30; i++) {
      m.send(channel, new Command("make", i)).join();
    }

    await().atMost(WAIT).until(() -> handled.size() == 30);
    assertThat(handled.values()).allMatch(count -> count == 1);
  }

  @Test
  void oneWayCommandSendsNoReply() {
    Messaging m = messaging("notifier");
    Channel<Command> channel = Channel.command(name("notifications"), Command.class);
    RecordingHandler<Command> handler = RecordingHandler.succeeding();
    m.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          handler.handle(c, ctx);
          return new Reply("ignored", 0);
        });

    m.send(channel, new Command("ping", 7)).join();

    await().atMost(WAIT).until(() -> handler.callCount() == 1);
    Message received = handler.calls().get(0).context().message();
    assertThat(received.header(Headers.REPLY_TO)).isEmpty();
    assertThat(m.metrics().sent()).isEqualTo(1);
  }

  // ---- request/reply -----------------------------------------------------------------------

  @Test
  void requestsGetTheirOwnReplies() {
    Messaging responder = messaging("kitchen");
    Messaging caller = messaging("orders");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    Set<Boolean> onHandlerThread = ConcurrentHashMap.newKeySet();
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          onHandlerThread.add(HandlerThread.isCurrent());
          return new Reply(c.text().toUpperCase(), c.number() * 2);
        },
        fast().withConcurrency(4));

    List<CompletableFuture<Reply>> replies =
        IntStream.range(0, 50)
            .mapToObj(
                i ->
                    caller.request(
                        channel, new Command("n" + i, i), Reply.class, Duration.ofSeconds(20)))
            .toList();

    for (int i = 0; i < replies.size(); i++) {
      assertThat(replies.get(i)).succeedsWithin(WAIT).isEqualTo(new Reply("N" + i, i * 2));
    }
    assertThat(caller.metrics().pendingRequests()).isZero();
    // a blocking handler runs where the transport may make its blocking settle calls
    assertThat(onHandlerThread).containsExactly(true);
  }

  @Test
  void requestFailsAtItsDeadlineWithoutResponder() {
    Messaging caller = messaging("orders");
    Channel<Command> channel = Channel.command(name("nobody"), Command.class);

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("x", 1), Reply.class, Duration.ofMillis(300));

    assertThat(reply)
        .failsWithin(WAIT)
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(DeadlineExceededException.class);
    assertThat(caller.metrics().pendingRequests()).isZero();
  }

  @Test
  void responderSkipsExpiredRequest() {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    CompletableFuture<Reply> expired =
        caller.request(channel, new Command("late", 1), Reply.class, Duration.ofMillis(200));
    assertThat(expired).failsWithin(WAIT);
    RecordingHandler<Command> handler = RecordingHandler.succeeding();

    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          handler.handle(c, ctx);
          return new Reply(c.text(), c.number());
        });
    Reply fresh =
        caller
            .request(channel, new Command("fresh", 2), Reply.class, Duration.ofSeconds(20))
            .join();

    assertThat(fresh.text()).isEqualTo("fresh");
    assertThat(handler.payloads()).extracting(Command::text).containsExactly("fresh");
  }

  /**
   * A request made while a deadline is current (a handler's call) gets no more than what is left.
   */
  @Test
  void aRequestInheritsTheCurrentDeadline() {
    Messaging caller = messaging("orders");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    dev.parley.policy.Deadline soon = dev.parley.policy.Deadline.after(Duration.ofMillis(500));

    CompletableFuture<Reply> reply;
    try (dev.parley.policy.Deadline.Scope scope = soon.attach()) {
      reply =
          caller.request(channel, new Command("nobody", 1), Reply.class, Duration.ofSeconds(60));
    }

    assertThat(reply)
        .failsWithin(Duration.ofSeconds(10)) // not 60: the inherited 500 ms
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(DeadlineExceededException.class);
    assertThat(caller.metrics().pendingRequests()).isZero();
  }

  /** A handler runs with the message's deadline current, so the calls it makes inherit it. */
  @Test
  void aHandlerSeesTheMessagesDeadlineAsCurrent() {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) ->
            new Reply(
                "left",
                (int)
                    dev.parley.policy.Deadline.current()
                        .map(dev.parley.policy.Deadline::remainingMillis)
                        .orElse(-1L)
                        .longValue()));

    Reply reply =
        caller.request(channel, new Command("x", 1), Reply.class, Duration.ofSeconds(20)).join();

    assertThat(reply.number()).isBetween(1, 20_000);
  }

  @Test
  void lateReplyIsDroppedAndCounted() throws Exception {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    CountDownLatch callerGaveUp = new CountDownLatch(1);
    CountDownLatch handlerStarted = new CountDownLatch(1);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          handlerStarted.countDown();
          if (!callerGaveUp.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("caller never gave up");
          }
          return new Reply("late", 0);
        });

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("slow", 1), Reply.class, Duration.ofSeconds(2));
    assertThat(handlerStarted.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(reply)
        .failsWithin(WAIT)
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(DeadlineExceededException.class);
    callerGaveUp.countDown();

    await().atMost(WAIT).until(() -> caller.metrics().lateReplies() == 1);
    assertThat(caller.metrics().pendingRequests()).isZero();
  }

  @Test
  void failureReplyCarriesTheResponderStatus() {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          throw new BadInputException("kitchen.unknown_dish", "no such dish: " + c.text());
        },
        fast());

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("unicorn", 1), Reply.class, Duration.ofSeconds(20));

    RemoteException failure = remoteFailure(reply);
    assertThat(failure.status().code()).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(failure.errorCode()).isEqualTo("kitchen.unknown_dish");
    assertThat(failure.status().message()).isEqualTo("no such dish: unicorn");
  }

  // ---- failure handling --------------------------------------------------------------------

  @Test
  void redeliversAfterHandlerFailure() {
    Messaging m = messaging("consumer");
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler =
        RecordingHandler.failing(
            (e, ctx) -> ctx.attempt() < 3 ? new IllegalStateException("flaky") : null);
    m.subscribe(channel, "g", handler, fast());

    m.publish(channel, new Event("k", 1, "x")).join();

    await().atMost(WAIT).until(() -> m.metrics().handled() == 1);
    assertThat(handler.calls()).extracting(c -> c.context().attempt()).containsExactly(1, 2, 3);
    assertThat(m.metrics().retried()).isEqualTo(2);
    assertThat(m.metrics().deadLettered()).isZero();
  }

  @Test
  void delayedRedeliveryGoesThroughTheBroker() {
    Messaging m = messaging("consumer");
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler =
        RecordingHandler.failing(
            (e, ctx) -> ctx.attempt() == 1 ? new IllegalStateException("not yet") : null);
    m.subscribe(
        channel,
        "g",
        handler,
        fast().withRedelivery(Redelivery.of(1, Duration.ZERO, Duration.ofMillis(300))));

    m.publish(channel, new Event("k", 1, "x")).join();

    await().atMost(WAIT).until(() -> m.metrics().handled() == 1);
    assertThat(m.metrics().redelivered()).isEqualTo(1);
    assertThat(handler.calls()).extracting(c -> c.context().attempt()).containsExactly(1, 2);
    Message second = handler.calls().get(1).context().message();
    assertThat(second.id()).isEqualTo(handler.calls().get(0).context().message().id());
    assertThat(second.header(Headers.FIRST_FAILURE_TIME)).isPresent();
  }

  @Test
  void deadLettersWithErrorHeadersAfterTheLastAttempt() {
    Transport transport = transport();
    Messaging m = messaging("consumer", transport);
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler =
        RecordingHandler.failing((e, ctx) -> new IllegalStateException("always fails"));
    m.subscribe(
        channel,
        "g",
        handler,
        fast().withRedelivery(Redelivery.of(2, Duration.ofMillis(10), Duration.ofMillis(100))));
    List<Message> dead =
        consume(transport, new Destination.GroupQueue(channel.name(), "g").deadLetter());

    Message sent = m.publish(channel, new Event("k", 1, "x")).join();

    await().atMost(WAIT).until(() -> dead.size() == 1);
    Message letter = dead.get(0);
    assertThat(letter.id()).isEqualTo(sent.id());
    assertThat(letter.headers())
        .containsEntry(Headers.ERROR_CODE, "parley.handler.failed")
        .containsEntry(Headers.ERROR_MESSAGE, "always fails")
        .containsEntry(Headers.EXCEPTION_CLASS, IllegalStateException.class.getName())
        .containsEntry(Headers.ORIGINAL_CHANNEL, channel.name())
        .containsEntry(
            Headers.ORIGINAL_QUEUE,
            transport.address(new Destination.GroupQueue(channel.name(), "g")))
        .containsEntry(Headers.ATTEMPT, "3")
        .containsKey(Headers.FIRST_FAILURE_TIME);
    assertThat(handler.callCount()).isEqualTo(3);
    assertThat(m.metrics().deadLettered()).isEqualTo(1);
  }

  @Test
  void nonRetryableFailureIsDeadLetteredAfterOneDelivery() {
    Transport transport = transport();
    Messaging m = messaging("consumer", transport);
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler =
        RecordingHandler.failing((e, ctx) -> new BadInputException("tck.bad", "rejected"));
    m.subscribe(channel, "g", handler, fast());
    List<Message> dead =
        consume(transport, new Destination.GroupQueue(channel.name(), "g").deadLetter());

    m.publish(channel, new Event("k", 1, "x")).join();

    await().atMost(WAIT).until(() -> dead.size() == 1);
    assertThat(handler.callCount()).isEqualTo(1);
    assertThat(dead.get(0).headers())
        .containsEntry(Headers.ERROR_CODE, "tck.bad")
        .containsEntry(Headers.ATTEMPT, "1");
  }

  /**
   * A handler whose stack overflows on one message (a recursive walk of hostile data, a regular
   * expression on a long string) — an {@link Error}, not an exception: the message goes through the
   * tiers to the dead-letter queue like any failure, and neither its key nor the subscription
   * stops. A blocking handler (on its handler pool) and an asynchronous one (on the transport's
   * thread).
   */
  @Test
  void aHandlerWhoseStackOverflowsFailsThatMessageAlone() {
    Transport transport = transport();
    Messaging m = messaging("overflow", transport);
    Channel<Event> channel =
        Channel.event(name("overflow"), Event.class).withPartitionKey(Event::key);
    List<String> overflowed = new CopyOnWriteArrayList<>();
    Map<String, List<Integer>> blocking = new ConcurrentHashMap<>();
    Map<String, List<Integer>> async = new ConcurrentHashMap<>();
    m.subscribe(
        channel,
        "blocking",
        (e, ctx) -> {
          if (e.text().equals("deep")) {
            overflowed.add("blocking " + depth(e.seq()));
          }
          blocking.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
        },
        fast());
    m.subscribeAsync(
        channel,
        "async",
        (e, ctx) -> {
          if (e.text().equals("deep")) {
            overflowed.add("async " + depth(e.seq()));
          }
          async.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
          return CompletableFuture.completedFuture(null);
        },
        fast());
    List<Message> deadBlocking =
        consume(transport, new Destination.GroupQueue(channel.name(), "blocking").deadLetter());
    List<Message> deadAsync =
        consume(transport, new Destination.GroupQueue(channel.name(), "async").deadLetter());

    m.publish(channel, new Event("key-0", 0, "deep")).join();
    m.publish(channel, new Event("key-0", 1, "")).join();
    publishOrdered(m, channel, 4, 2, 20); // 4 keys, key-0's later messages among them

    await().atMost(WAIT).until(() -> deadBlocking.size() == 1 && deadAsync.size() == 1);
    await().atMost(WAIT).until(() -> total(blocking) == 4 * 18 + 1 && total(async) == 4 * 18 + 1);
    assertThat(overflowed).as("the stack never overflowed: no fault").isEmpty();
    for (Message letter : List.of(deadBlocking.get(0), deadAsync.get(0))) {
      assertThat(letter.headers())
          .containsEntry(Headers.EXCEPTION_CLASS, StackOverflowError.class.getName())
          .containsEntry(Headers.ERROR_CODE, "parley.handler.failed")
          .containsEntry(Headers.ATTEMPT, "4");
    }
    for (Map<String, List<Integer>> seen : List.of(blocking, async)) {
      assertThat(seen.get("key-0")).isEqualTo(IntStream.range(1, 20).boxed().toList());
      for (int k = 1; k < 4; k++) {
        assertThat(seen.get("key-" + k)).isEqualTo(IntStream.range(2, 20).boxed().toList());
      }
    }
  }

  /**
   * Recursion without a bound: the stack overflows (returns only to keep the call from folding).
   */
  private static int depth(int n) {
    return depth(n + 1) + 1;
  }

  @Test
  void undecodableMessageIsDeadLetteredWhileOthersFlow() {
    Transport transport = transport();
    Messaging m = messaging("consumer", transport);
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    m.subscribe(channel, "g", handler, fast());
    List<Message> dead =
        consume(transport, new Destination.GroupQueue(channel.name(), "g").deadLetter());
    Message garbage =
        Message.builder()
            .header(Headers.CONTENT_TYPE, "application/json")
            .payload("{not json".getBytes(StandardCharsets.UTF_8))
            .build();
    Message wrongType =
        Message.builder()
            .header(Headers.CONTENT_TYPE, "application/x-java-serialized-object")
            .payload(new byte[] {(byte) 0xac, (byte) 0xed, 0, 5})
            .build();

    m.publish(channel, new Event("k", 1, "before")).join();
    transport.send(new Destination.Event(channel.name()), garbage, SendOptions.NONE).join();
    transport.send(new Destination.Event(channel.name()), wrongType, SendOptions.NONE).join();
    m.publish(channel, new Event("k", 2, "after")).join();

    await().atMost(WAIT).until(() -> dead.size() == 2 && handler.callCount() == 2);
    assertThat(dead)
        .extracting(d -> d.headers().get(Headers.ERROR_CODE))
        .containsExactlyInAnyOrder(
            CodecException.MALFORMED, CodecException.UNSUPPORTED_CONTENT_TYPE);
    assertThat(dead).allSatisfy(d -> assertThat(d.headers()).containsEntry(Headers.ATTEMPT, "1"));
    assertThat(handler.payloads()).extracting(Event::text).containsExactly("before", "after");
  }

  @Test
  void poisonMessagesAreDeadLetteredOnceWhileGoodOnesFlow() {
    Transport transport = transport();
    Messaging m = messaging("consumer", transport);
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler =
        RecordingHandler.failing(
            (e, ctx) ->
                e.text().equals("reject") ? new BadInputException("tck.rejected", "no") : null);
    m.subscribe(channel, "g", handler, fast().withConcurrency(2));
    List<Message> dead =
        consume(transport, new Destination.GroupQueue(channel.name(), "g").deadLetter());
    Map<String, String> expectedCodes = new java.util.LinkedHashMap<>();
    List<Message> poison = new ArrayList<>();
    for (int copy = 0; copy < 5; copy++) {
      poison.add(
          poison(
              expectedCodes,
              CodecException.MALFORMED,
              "application/json",
              "{\"key\":".getBytes(StandardCharsets.UTF_8)));
      poison.add(
          poison(
              expectedCodes,
              CodecException.TOO_DEEP,
              "application/json",
              ("{\"extra\":" + "[".repeat(1_200)).getBytes(StandardCharsets.UTF_8)));
      poison.add(
          poison(
              expectedCodes,
              CodecException.TOO_LARGE,
              "application/json",
              new byte[(1 << 20) + 1]));
      poison.add(
          poison(
              expectedCodes,
              CodecException.MALFORMED,
              "application/json",
              new byte[] {'{', '"', 'k', 'e', 'y', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'}));
      poison.add(
          poison(
              expectedCodes,
              CodecException.UNSUPPORTED_CONTENT_TYPE,
              "application/x-java-serialized-object",
              new byte[] {(byte) 0xAC, (byte) 0xED, 0, 5}));
      poison.add(
          poison(
              expectedCodes,
              CodecException.UNSUPPORTED_CONTENT_TYPE,
              "text/plain",
              "hello".getBytes(StandardCharsets.UTF_8)));
      poison.add(
          poison(
              expectedCodes,
              CodecException.MISSING_CONTENT_TYPE,
              null,
              "{}".getBytes(StandardCharsets.UTF_8)));
      poison.add(
          withHeader(
              poison(
                  expectedCodes,
                  "parley.header.invalid",
                  "application/json",
                  "{}".getBytes(StandardCharsets.UTF_8)),
              Headers.DEADLINE,
              "tomorrow"));
      poison.add(
          withHeader(
              poison(
                  expectedCodes,
                  "parley.header.invalid",
                  "application/json",
                  "{}".getBytes(StandardCharsets.UTF_8)),
              Headers.ATTEMPT,
              "-1"));
      poison.add(
          poison(
              expectedCodes,
              "tck.rejected",
              "application/json",
              "{\"key\":\"k\",\"seq\":-1,\"text\":\"reject\"}".getBytes(StandardCharsets.UTF_8)));
    }

    List<CompletableFuture<?>> sends = new ArrayList<>();
    int good = 0;
    for (int i = 0; i < 200; i++) {
      sends.add(m.publish(channel, new Event("k" + (i % 7), i, "good")));
      good++;
      if (i % 4 == 0 && !poison.isEmpty()) {
        sends.add(
            transport.send(
                new Destination.Event(channel.name()), poison.remove(0), SendOptions.NONE));
      }
    }
    for (Message p : poison) {
      sends.add(transport.send(new Destination.Event(channel.name()), p, SendOptions.NONE));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
    int goodSent = good;

    await()
        .atMost(WAIT)
        .until(
            () ->
                dead.size() == expectedCodes.size()
                    && handler.payloads().stream().filter(e -> e.text().equals("good")).count()
                        == goodSent);
    assertThat(dead)
        .allSatisfy(
            d -> {
              assertThat(d.headers()).containsEntry(Headers.ATTEMPT, "1");
              assertThat(d.headers().get(Headers.ERROR_CODE)).isEqualTo(expectedCodes.get(d.id()));
            });
    assertThat(
            handler.payloads().stream()
                .filter(e -> e.text().equals("good"))
                .map(Event::seq)
                .distinct()
                .count())
        .isEqualTo(goodSent);
    assertThat(m.metrics().retried()).isZero();
    assertThat(m.metrics().redelivered()).isZero();
    assertThat(m.metrics().received()).isEqualTo(goodSent + expectedCodes.size());
  }

  private static Message poison(
      Map<String, String> expected, String code, String contentType, byte[] payload) {
    Message.Builder b = Message.builder().payload(payload);
    if (contentType != null) {
      b.header(Headers.CONTENT_TYPE, contentType);
    }
    Message message = b.build();
    expected.put(message.id(), code);
    return message;
  }

  /** The same message (same id, so the same expected code) with one more header. */
  private static Message withHeader(Message message, String name, String value) {
    return message.toBuilder().header(name, value).build();
  }

  // ---- hostile input (docs/wire.md §1 limits; RELIABILITY.md M9, M14) -----------------------

  /** One class of hostile message: the headers a foreign sender put on it, the expected code. */
  private record Hostile(String name, String code, List<Map.Entry<String, String>> headers) {}

  private static List<Hostile> hostileClasses(String channel) {
    String json = "application/json";
    List<Map.Entry<String, String>> manyHeaders = new ArrayList<>();
    manyHeaders.add(Map.entry(Headers.CONTENT_TYPE, json));
    for (int i = 0; i < 200; i++) {
      manyHeaders.add(Map.entry("x" + i, "v"));
    }
    return List.of(
        new Hostile(
            "reply-to with a space",
            "parley.header.invalid_reply_to",
            List.of(
                Map.entry(Headers.CONTENT_TYPE, json), Map.entry(Headers.REPLY_TO, "has space"))),
        new Hostile(
            "reply-to as a fully qualified queue",
            "parley.header.invalid_reply_to",
            List.of(
                Map.entry(Headers.CONTENT_TYPE, json),
                Map.entry(Headers.REPLY_TO, channel + "::" + channel + ".g"))),
        new Hostile(
            "reply-to another service's command queue",
            "parley.reply_to.not_allowed",
            List.of(
                Map.entry(Headers.CONTENT_TYPE, json),
                Map.entry(Headers.REPLY_TO, channel + ".victim"))),
        new Hostile(
            "reply-to the channel's own dead-letter queue",
            "parley.reply_to.not_allowed",
            List.of(
                Map.entry(Headers.CONTENT_TYPE, json),
                Map.entry(Headers.REPLY_TO, channel + ".dlq"))),
        new Hostile(
            "empty parley-id",
            "parley.header.invalid",
            List.of(Map.entry(Headers.CONTENT_TYPE, json), Map.entry(Headers.ID, ""))),
        new Hostile(
            "blank header name",
            "parley.header.invalid",
            List.of(Map.entry(Headers.CONTENT_TYPE, json), Map.entry(" ", "blank name"))),
        new Hostile(
            "10 KB parley-id",
            "parley.header.invalid",
            List.of(
                Map.entry(Headers.CONTENT_TYPE, json), Map.entry(Headers.ID, "i".repeat(10_240)))),
        new Hostile(
            "negative deadline",
            "parley.header.invalid",
            List.of(Map.entry(Headers.CONTENT_TYPE, json), Map.entry(Headers.DEADLINE, "-1"))),
        new Hostile("200 headers", "parley.header.invalid", manyHeaders),
        new Hostile(
            "70 KB header value",
            "parley.header.invalid",
            List.of(Map.entry(Headers.CONTENT_TYPE, json), Map.entry("huge", "b".repeat(70_000)))));
  }

  /**
   * M14 at build size: good commands interleaved with hostile ones of every class, sent by a raw
   * client. Every good one is handled once; every hostile one is dead-lettered once, with its code,
   * without the handler running; nothing is redelivered or retried. {@code
   * -Dparley.tck.storm.good=10000 -Dparley.tck.storm.hostile=1000} runs the full size.
   */
  @Test
  void hostileMessagesAreDeadLetteredOnceWhileGoodOnesFlow() throws Exception {
    int goodCount = Integer.getInteger("parley.tck.storm.good", 1_000);
    int hostileCount = Integer.getInteger("parley.tck.storm.hostile", 100);
    Transport transport = transport();
    Messaging m = messaging("kitchen", transport);
    Messaging sender = messaging("orders");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    Set<Integer> handled = ConcurrentHashMap.newKeySet();
    AtomicInteger calls = new AtomicInteger();
    m.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          calls.incrementAndGet();
          handled.add(c.number());
          return new Reply(c.text(), c.number());
        },
        fast());
    List<Message> dead = consume(transport, new Destination.Queue(channel.name()).deadLetter());
    List<Hostile> classes = hostileClasses(channel.name());

    List<CompletableFuture<?>> sends = new ArrayList<>();
    int every = Math.max(1, goodCount / Math.max(1, hostileCount));
    int hostileSent = 0;
    for (int i = 0; i < goodCount; i++) {
      if (sends.size()
          == 100) { // at most 100 sends in flight: the storm is in the data, not the rate
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
        sends.clear();
      }
      sends.add(sender.send(channel, new Command("good", i)));
      if (i % every == 0 && hostileSent < hostileCount) {
        Hostile h = classes.get(hostileSent % classes.size());
        // The case number travels in the body, which a dead letter keeps unchanged (a broker may
        // reorder or drop headers of a message past the limits).
        byte[] body =
            ("{\"text\":\"hostile\",\"number\":-1,\"case\":" + hostileSent + "}")
                .getBytes(StandardCharsets.UTF_8);
        sendRaw(channel.name(), h.headers(), body);
        hostileSent++;
      }
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
    int hostileTotal = hostileSent;

    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              assertThat(handled).as("good ones handled").hasSize(goodCount);
              assertThat(dead.stream().map(TransportTck::hostileCase).distinct().count())
                  .as("hostile ones dead-lettered, of %s", hostileTotal)
                  .isEqualTo(hostileTotal);
            });
    assertThat(calls.get())
        .as("handler runs: good ones once, hostile ones never")
        .isEqualTo(goodCount);
    assertThat(dead).hasSize(hostileTotal);
    Map<String, String> codeOfCase = new java.util.HashMap<>();
    for (Message d : dead) {
      assertThat(codeOfCase.put(hostileCase(d), d.headers().get(Headers.ERROR_CODE)))
          .as("dead-lettered once: case %s", hostileCase(d))
          .isNull();
      assertThat(d.headers()).containsEntry(Headers.ATTEMPT, "1");
    }
    for (int i = 0; i < hostileTotal; i++) {
      Hostile h = classes.get(i % classes.size());
      assertThat(codeOfCase.get(Integer.toString(i))).as(h.name()).isEqualTo(h.code());
    }
    assertThat(m.metrics().received()).isEqualTo(goodCount + hostileTotal);
    assertThat(m.metrics().retried()).isZero();
    assertThat(m.metrics().redelivered()).isZero();
    assertThat(reconnects(transport))
        .as("no reconnect: one message never closes a connection")
        .isZero();
  }

  /**
   * S6: a request whose reply address is another service's command queue is dead-lettered once with
   * {@code parley.reply_to.not_allowed}; neither the responder's handler nor the victim's runs, and
   * nothing reaches the victim's queue. A reply queue the service allowed ({@code
   * MessagingBuilder.allowReplyTo}) gets its answer; Parley's own callers need no configuration.
   */
  @Test
  void repliesGoOnlyToReplyDestinations() throws Exception {
    Transport transport = transport();
    Messaging responder =
        Messaging.builder()
            .service("kitchen")
            .transport(transport)
            .codecs(Codecs.discover())
            .subscriptionOptions(fast())
            .allowReplyTo(name("foreign.replies.*"))
            .build();
    resources.add(responder);
    Messaging victim = messaging("billing");
    Channel<Command> commands = Channel.command(name("commands"), Command.class);
    Channel<Command> victimCommands = Channel.command(name("billing.commands"), Command.class);
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger victimCalls = new AtomicInteger();
    responder.serve(
        commands,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          calls.incrementAndGet();
          return new Reply(c.text(), c.number());
        },
        fast());
    victim.serve(
        victimCommands,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          victimCalls.incrementAndGet();
          return null;
        },
        fast());
    List<Message> dead = consume(transport, new Destination.Queue(commands.name()).deadLetter());
    List<Message> victimDead =
        consume(transport, new Destination.Queue(victimCommands.name()).deadLetter());
    String foreignReplies = name("foreign.replies.1");
    List<Message> answered = consume(transport, new Destination.Queue(foreignReplies));
    byte[] body = "{\"text\":\"aimed\",\"number\":1}".getBytes(StandardCharsets.UTF_8);
    String json = "application/json";

    sendRaw(
        commands.name(),
        List.of(
            Map.entry(Headers.CONTENT_TYPE, json),
            Map.entry(Headers.ID, "01a20000-0000-7000-8000-00000000a001"),
            Map.entry(Headers.REPLY_TO, victimCommands.name())),
        body);
    sendRaw(
        commands.name(),
        List.of(
            Map.entry(Headers.CONTENT_TYPE, json),
            Map.entry(Headers.ID, "01a20000-0000-7000-8000-00000000a002"),
            Map.entry(Headers.REPLY_TO, foreignReplies)),
        body);

    await().atMost(WAIT).until(() -> dead.size() == 1 && answered.size() == 1);
    Message refused = dead.get(0);
    assertThat(refused.id()).isEqualTo("01a20000-0000-7000-8000-00000000a001");
    assertThat(refused.headers())
        .containsEntry(Headers.ERROR_CODE, "parley.reply_to.not_allowed")
        .containsEntry(Headers.ATTEMPT, "1");
    assertThat(answered.get(0).headers())
        .containsEntry(Headers.CORRELATION_ID, "01a20000-0000-7000-8000-00000000a002")
        .doesNotContainKey(Headers.STATUS); // a reply without a status is OK
    assertThat(responder.request(commands, new Command("parley", 2), Reply.class, WAIT).get())
        .as("Parley's own callers reply to parley.reply.*")
        .isEqualTo(new Reply("parley", 2));
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> victimCalls.get() == 0 && victimDead.isEmpty());
    assertThat(calls.get()).as("the aimed request never ran; the others once each").isEqualTo(2);
    assertThat(responder.describe())
        .contains("replies to: parley.reply.*, " + name("foreign.replies.*"));
  }

  /**
   * A responder's first failed request: the failure reply, then — chained on its confirm — the
   * first dead letter of a queue never used before. Every later request still gets its answer (on
   * RabbitMQ the dead letter's topology check ran on the client's I/O thread and every later send
   * timed out).
   */
  @Test
  void aFirstDeadLetterAfterAFailureReplyDoesNotStallLaterRequests() {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          if (c.number() == 0) {
            throw new BadInputException("tck.first", "the first one fails");
          }
          return new Reply(c.text(), c.number());
        },
        fast());

    CompletableFuture<Reply> first =
        caller.request(channel, new Command("first", 0), Reply.class, Duration.ofSeconds(20));
    assertThat(remoteFailure(first).errorCode()).isEqualTo("tck.first");
    // 1,000 more, 50 in flight at a time (a stall, not the send rate, is what this looks for).
    for (int batch = 0; batch < 20; batch++) {
      List<CompletableFuture<Reply>> later = new ArrayList<>();
      for (int i = 1; i <= 50; i++) {
        later.add(
            caller.request(
                channel,
                new Command("later", batch * 50 + i),
                Reply.class,
                Duration.ofSeconds(60)));
      }
      assertThat(CompletableFuture.allOf(later.toArray(CompletableFuture[]::new)))
          .as("batch %s", batch)
          .succeedsWithin(Duration.ofSeconds(60));
      assertThat(later).allSatisfy(f -> assertThat(f.join().text()).isEqualTo("later"));
    }
  }

  private static String hostileCase(Message deadLetter) {
    String body = new String(deadLetter.payload(), StandardCharsets.UTF_8);
    int at = body.indexOf("\"case\":");
    return at < 0 ? "none" : body.substring(at + 7, body.indexOf('}', at));
  }

  @Test
  void replyWithoutTheRequestsTokenIsNotAccepted() throws Exception {
    Transport forger = transport();
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    CompletableFuture<Message> seen = new CompletableFuture<>();
    CountDownLatch forged = new CountDownLatch(1);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          seen.complete(ctx.message());
          if (!forged.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no forgery sent");
          }
          return new Reply("real", 1);
        });

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("pay", 1), Reply.class, Duration.ofSeconds(30));
    Message request = seen.get(30, TimeUnit.SECONDS);
    // A third party knows the request's id and reply address, not its token.
    Message forgery =
        Message.builder()
            .header(Headers.CORRELATION_ID, request.id())
            .header(Headers.STATUS, "OK")
            .header(Headers.CONTENT_TYPE, "application/json")
            .payload("{\"text\":\"FORGED\",\"number\":666}".getBytes(StandardCharsets.UTF_8))
            .build();
    forger
        .send(
            new Destination.Queue(request.headers().get(Headers.REPLY_TO)),
            forgery,
            SendOptions.TRANSIENT)
        .join();
    await().atMost(WAIT).until(() -> caller.metrics().forgedReplies() == 1);
    forged.countDown();

    assertThat(reply).succeedsWithin(WAIT).isEqualTo(new Reply("real", 1));
    assertThat(request.headers()).containsKey(Headers.REPLY_TOKEN);
  }

  /**
   * A responder that knows nothing of Parley (RabbitMQ's RPC tutorial server, Spring's
   * {@code @RabbitListener}, a JMS listener) answers with the request's correlation id and no reply
   * token. On a channel {@linkplain Channel#withRepliesByCorrelationId() with replies by
   * correlation id} that answers the call; Parley's own responder answers such a channel too.
   */
  @Test
  void aResponderThatEchoesOnlyTheCorrelationIdAnswersAChannelWithRepliesByCorrelationId()
      throws Exception {
    Transport foreign = transport();
    Messaging caller = messaging("orders");
    Channel<Command> channel =
        Channel.command(name("commands"), Command.class).withRepliesByCorrelationId();
    CompletableFuture<Message> seen = new CompletableFuture<>();
    TransportSubscription responder =
        foreign.subscribe(
            new Destination.Queue(channel.name()),
            new ConsumerSettings(1, 10, false),
            (d, settlement) -> {
              Message request = d.message();
              seen.complete(request);
              Message answer =
                  Message.builder()
                      .header(Headers.CORRELATION_ID, request.headers().get(Headers.CORRELATION_ID))
                      .header(Headers.CONTENT_TYPE, "application/json")
                      .payload(
                          "{\"text\":\"foreign\",\"number\":7}".getBytes(StandardCharsets.UTF_8))
                      .build();
              CompletableFuture.runAsync(
                  () ->
                      foreign
                          .send(
                              new Destination.Queue(request.headers().get(Headers.REPLY_TO)),
                              answer,
                              SendOptions.TRANSIENT)
                          .whenComplete((v, e) -> settlement.ack()));
            });
    resources.add(responder);

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("pay", 1), Reply.class, Duration.ofSeconds(30));

    assertThat(reply).succeedsWithin(WAIT).isEqualTo(new Reply("foreign", 7));
    Message request = seen.get(30, TimeUnit.SECONDS);
    assertThat(request.headers()).doesNotContainKey(Headers.REPLY_TOKEN);
    assertThat(request.headers().get(Headers.CORRELATION_ID))
        .hasSize(22) // 128 random bits, URL-safe Base64: made for this request alone
        .isNotEqualTo(request.id());
    assertThat(caller.metrics().forgedReplies()).isZero();
    responder.close();

    Messaging kitchen = messaging("kitchen");
    kitchen.serve(
        channel, (Command c, dev.parley.messaging.MessageContext ctx) -> new Reply(c.text(), 2));
    assertThat(caller.request(channel, new Command("soup", 1), Reply.class, Duration.ofSeconds(30)))
        .succeedsWithin(WAIT)
        .isEqualTo(new Reply("soup", 2));
  }

  @Test
  void failureReplyDoesNotCarryTheExceptionText() {
    Messaging caller = messaging("orders");
    Messaging responder = messaging("kitchen");
    Channel<Command> channel = Channel.command(name("commands"), Command.class);
    responder.serve(
        channel,
        (Command c, dev.parley.messaging.MessageContext ctx) -> {
          throw new IllegalStateException("db login failed: password=S3cr3t");
        },
        SubscriptionOptions.defaults().withRedelivery(Redelivery.of(1, Duration.ofMillis(1))));

    CompletableFuture<Reply> reply =
        caller.request(channel, new Command("x", 1), Reply.class, Duration.ofSeconds(20));

    RemoteException failure = remoteFailure(reply);
    assertThat(failure.status().code()).isEqualTo(Code.INTERNAL);
    assertThat(failure.errorCode()).isEqualTo("parley.handler.failed");
    assertThat(failure.status().message()).isEqualTo("the handler failed");
    assertThat(failure.toString()).doesNotContain("S3cr3t");
  }

  /**
   * A stage chained on a send's completion sends again — the outbox relay's per-key chain, a dead
   * letter after a failure reply — to queues never used before, so the transport has to check or
   * declare them. Such a stage must not run where it blocks the client library's I/O (RabbitMQ: a
   * topology RPC on the thread that reads its answer), and every chained send completes.
   */
  @Test
  void sendChainedOnAConfirmToFreshQueuesCompletes() {
    Transport transport = transport();
    Message m = Message.builder().header(Headers.CONTENT_TYPE, "application/json").build();
    CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
    for (int i = 0; i < 20; i++) {
      Destination.Queue fresh = new Destination.Queue(name("fresh-" + i));
      chain = chain.thenCompose(v -> transport.send(fresh, m, SendOptions.NONE));
    }

    assertThat(chain).succeedsWithin(WAIT);
    for (int batch = 0; batch < 10; batch++) {
      List<CompletableFuture<Void>> after = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        after.add(transport.send(new Destination.Queue(name("fresh-0")), m, SendOptions.NONE));
      }
      assertThat(CompletableFuture.allOf(after.toArray(CompletableFuture[]::new)))
          .succeedsWithin(WAIT);
    }
  }

  // ---- ordering ----------------------------------------------------------------------------

  @Test
  void partitionedChannelKeepsPerKeyOrderWhileMembersLeaveAndJoin() {
    Messaging publisher = messaging("publisher");
    Messaging members = messaging("members");
    Channel<Event> channel =
        Channel.event(name("ordered"), Event.class).withPartitionKey(Event::key);
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    Map<String, Set<String>> threadsPerKey = new ConcurrentHashMap<>();
    dev.parley.messaging.MessageHandler<Event> record =
        (e, ctx) -> {
          seen.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
          threadsPerKey
              .computeIfAbsent(e.key(), k -> ConcurrentHashMap.newKeySet())
              .add(Thread.currentThread().getName());
        };
    SubscriptionOptions options = fast().withConcurrency(2).withPrefetch(5);
    Subscription first = members.subscribe(channel, "g", record, options);
    Subscription second = members.subscribe(channel, "g", record, options);
    int keys = 8;
    int perKey = 40;

    publishOrdered(publisher, channel, keys, 0, perKey / 2);
    await().atMost(WAIT).until(() -> total(seen) >= keys * perKey / 4);
    first.close();
    Subscription third = members.subscribe(channel, "g", record, options);
    publishOrdered(publisher, channel, keys, perKey / 2, perKey);

    await().atMost(WAIT).until(() -> distinct(seen) == keys * perKey);
    for (int k = 0; k < keys; k++) {
      List<Integer> order = seen.get("key-" + k);
      assertThat(order).as("key-%d", k).isSorted();
      assertThat(new HashSet<>(order)).as("key-%d", k).isEqualTo(new HashSet<>(range(perKey)));
    }
    assertThat(threadsPerKey.values().stream().mapToInt(Set::size).sum()).isGreaterThan(keys);
    second.close();
    third.close();
  }

  /**
   * A member whose handlers are still busy when a joining member takes some of its partitions keeps
   * them until those handlers have finished (its drain, within the close timeout), however long the
   * group's hand-over wait: no key is handled by two members at once, and each key's order holds
   * across the hand-over.
   */
  @Test
  void aPartitionMovesOnlyOnceItsOwnerHasLetGo() throws Exception {
    Messaging publisher = messaging("handover-publisher");
    Channel<Event> channel =
        Channel.event(name("handover"), Event.class).withPartitionKey(Event::key);
    Map<String, AtomicInteger> inHand = new ConcurrentHashMap<>();
    List<String> atOnce = new CopyOnWriteArrayList<>();
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    CountDownLatch release = new CountDownLatch(1);
    Function<Boolean, dev.parley.messaging.MessageHandler<Event>> handler =
        holdBack ->
            (e, ctx) -> {
              var n = inHand.computeIfAbsent(e.key(), k -> new AtomicInteger());
              if (n.incrementAndGet() > 1) {
                atOnce.add(e.key() + "/" + e.seq());
              }
              try {
                if (holdBack) {
                  release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                }
                seen.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
              } finally {
                n.decrementAndGet();
              }
            };
    SubscriptionOptions options = fast().withConcurrency(8).withPrefetch(2);
    Subscription first =
        messaging("handover-first").subscribe(channel, "g", handler.apply(true), options);
    int keys = 16;
    int perKey = 20;
    publishOrdered(publisher, channel, keys, 0, perKey);
    await().atMost(WAIT).until(() -> inHand.values().stream().mapToInt(i -> i.get()).sum() > 0);

    Subscription second;
    try {
      second = messaging("handover-second").subscribe(channel, "g", handler.apply(false), options);
      // the first member's handlers stay busy well past the group's hand-over wait
      await()
          .during(Duration.ofMillis(1500))
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertThat(atOnce).as("handled by two members at once").isEmpty());
    } finally {
      release.countDown();
    }

    await().atMost(WAIT).until(() -> distinct(seen) == keys * perKey);
    assertThat(atOnce).as("handled by two members at once").isEmpty();
    for (int k = 0; k < keys; k++) {
      List<Integer> firstTimes = new ArrayList<>(new LinkedHashSet<>(seen.get("key-" + k)));
      assertThat(firstTimes).as("key-%d, in the order first handled", k).isEqualTo(range(perKey));
    }
    first.close();
    second.close();
  }

  // ---- the delivery engine -----------------------------------------------------------------

  /**
   * A transport pushes deliveries without waiting for earlier ones to be settled, and stops at the
   * prefetch: with prefetch 5 and a handler that settles nothing, exactly 5 arrive and stay the
   * only ones; each settlement lets one more in.
   */
  @Test
  void atMostPrefetchDeliveriesAreUnsettled() throws Exception {
    Transport transport = transport();
    Destination.Queue queue = new Destination.Queue(name("window"));
    List<dev.parley.transport.spi.Settlement> unsettled = new CopyOnWriteArrayList<>();
    List<String> received = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean settleAll =
        new java.util.concurrent.atomic.AtomicBoolean();
    resources.add(
        transport.subscribe(
            queue,
            new ConsumerSettings(1, 5, false),
            (d, settlement) -> {
              received.add(d.message().id());
              unsettled.add(settlement);
              if (settleAll.get()) {
                settlement.ack();
              }
            }));
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sends.add(
          transport.send(
              queue, Message.builder().payload(new byte[] {1}).build(), SendOptions.NONE));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    await().atMost(WAIT).until(() -> received.size() >= 5);
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> received.size() == 5);
    List<dev.parley.transport.spi.Settlement> firstFive = List.copyOf(unsettled);
    firstFive.forEach(dev.parley.transport.spi.Settlement::ack);
    await().atMost(WAIT).until(() -> received.size() == 10);
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(5))
        .until(() -> received.size() == 10);
    settleAll.set(true);
    unsettled.forEach(dev.parley.transport.spi.Settlement::ack); // settling twice is harmless
    await().atMost(WAIT).until(() -> received.size() == 20);
    assertThat(new HashSet<>(received)).hasSize(20);
  }

  /**
   * On a partitioned channel a failing key waits for its redelivery tiers (1 s, then 10 s) in its
   * lane, scheduled rather than slept: 1,000 messages of other keys on the same consumer are all
   * handled meanwhile, and the key's own later messages wait behind it, in order.
   */
  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aPoisonedKeyWaitsForItsTiersWhileOtherKeysFlow() {
    Messaging m = messaging("engine");
    Channel<Event> channel =
        Channel.event(name("poisoned"), Event.class).withPartitionKey(Event::key);
    List<Long> poisonAttempts = new CopyOnWriteArrayList<>();
    List<Integer> poisonOrder = new CopyOnWriteArrayList<>();
    Map<String, List<Integer>> others = new ConcurrentHashMap<>();
    AtomicInteger othersWhilePoisoned = new AtomicInteger();
    m.subscribe(
        channel,
        "g",
        (e, ctx) -> {
          if (e.key().equals("poison")) {
            if (e.seq() == 0) {
              poisonAttempts.add(System.nanoTime());
              if (ctx.attempt() < 3) {
                throw new IllegalStateException("poisoned, attempt " + ctx.attempt());
              }
            }
            poisonOrder.add(e.seq());
            return;
          }
          others.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
          if (poisonOrder.isEmpty()) {
            othersWhilePoisoned.incrementAndGet();
          }
        },
        fast()
            .withRedelivery(
                Redelivery.of(1, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(10))));
    m.publish(channel, new Event("poison", 0, "")).join();
    await().atMost(WAIT).until(() -> poisonAttempts.size() == 1);
    for (int seq = 1; seq <= 4; seq++) {
      m.publish(channel, new Event("poison", seq, "")).join();
    }
    publishOrdered(m, channel, 20, 0, 50); // 1,000 messages of 20 other keys

    await().atMost(WAIT).until(() -> total(others) == 1000);
    assertThat(poisonOrder).as("the poisoned key still waits for its second tier").isEmpty();
    await().atMost(WAIT).until(() -> poisonOrder.size() == 5);
    assertThat(othersWhilePoisoned.get()).isEqualTo(1000);
    assertThat(poisonOrder).containsExactly(0, 1, 2, 3, 4);
    assertThat(poisonAttempts).hasSize(3);
    assertThat(Duration.ofNanos(poisonAttempts.get(2) - poisonAttempts.get(0)))
        .as("1 s + 10 s of tiers")
        .isGreaterThanOrEqualTo(Duration.ofMillis(10_900));
    for (List<Integer> order : others.values()) {
      assertThat(order).isEqualTo(range(50));
    }
  }

  /**
   * Members with 1, 4 and 16 lanes join a partitioned group one after another while 10,000 messages
   * wait: every message is handled exactly once and each key's messages in order.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void membersJoinWhileABacklogWaits() {
    Messaging publisher = messaging("backlog-publisher");
    Channel<Event> channel =
        Channel.event(name("backlog"), Event.class).withPartitionKey(Event::key);
    // Declare the group's queues, then let the backlog build up with nobody consuming.
    publisher.subscribe(channel, "g", (e, ctx) -> {}, fast()).close();
    int keys = 100;
    int perKey = 100;
    publishOrdered(publisher, channel, keys, 0, perKey);

    List<String> handled = new CopyOnWriteArrayList<>();
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    dev.parley.messaging.MessageHandler<Event> record =
        (e, ctx) -> {
          handled.add(e.key() + "/" + e.seq());
          seen.computeIfAbsent(e.key(), k -> new CopyOnWriteArrayList<>()).add(e.seq());
        };
    messaging("member-1").subscribe(channel, "g", record, fast().withConcurrency(1));
    await().atMost(WAIT).until(() -> handled.size() >= 500);
    messaging("member-4").subscribe(channel, "g", record, fast().withConcurrency(4));
    await().atMost(WAIT).until(() -> handled.size() >= 2_000);
    messaging("member-16").subscribe(channel, "g", record, fast().withConcurrency(16));

    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> new HashSet<>(handled).size() == keys * perKey);
    int[] last = {-1};
    await() // settled: nothing more arrives
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              int now = handled.size();
              boolean stable = now == last[0];
              last[0] = now;
              return stable;
            });
    Set<String> once = new HashSet<>();
    List<String> twice = handled.stream().filter(h -> !once.add(h)).toList();
    assertThat(twice).as("handled more than once").isEmpty();
    for (int k = 0; k < keys; k++) {
      assertThat(seen.get("key-" + k)).as("key-%d in order", k).isEqualTo(range(perKey));
    }
  }

  /**
   * Closing a subscription lets the messages being handled finish and be acknowledged, gives the
   * rest back, and returns within its bound: a later subscriber gets exactly the rest.
   */
  @Test
  void closeDrainsWhatIsBeingHandledAndGivesBackTheRest() throws Exception {
    Messaging m = messaging("drain");
    Channel<Event> channel = Channel.event(name("drain"), Event.class);
    m.subscribe(channel, "g", (e, ctx) -> {}, fast()).close();
    publishAll(m, channel, 40);
    CountDownLatch release = new CountDownLatch(1);
    Set<Integer> first = ConcurrentHashMap.newKeySet();
    Subscription s =
        m.subscribe(
            channel,
            "g",
            (e, ctx) -> {
              first.add(e.seq());
              release.await(30, TimeUnit.SECONDS);
            },
            fast().withConcurrency(4).withPrefetch(8));
    await().atMost(WAIT).until(() -> first.size() == 4);
    CompletableFuture<Void> closed = CompletableFuture.runAsync(s::close);
    await()
        .during(Duration.ofMillis(200))
        .atMost(Duration.ofSeconds(5))
        .until(() -> !closed.isDone());
    release.countDown();
    closed.get(30, TimeUnit.SECONDS);
    assertThat(first).as("nothing started after close began").hasSize(4);

    Set<Integer> second = ConcurrentHashMap.newKeySet();
    List<Integer> again = new CopyOnWriteArrayList<>();
    m.subscribe(
        channel,
        "g",
        (e, ctx) -> {
          if (!second.add(e.seq()) || first.contains(e.seq())) {
            again.add(e.seq());
          }
        },
        fast());
    await().atMost(WAIT).until(() -> second.size() + first.size() >= 40);
    assertThat(again).as("handled twice").isEmpty();
    Set<Integer> all = new HashSet<>(first);
    all.addAll(second);
    assertThat(all).isEqualTo(new HashSet<>(range(40)));
  }

  /** An asynchronous handler answers requests without a handler pool; the chain is printed. */
  @Test
  void asynchronousHandlerServesRequestsAndTheChainIsDescribed() {
    Messaging m = messaging("async");
    Channel<Command> channel = Channel.command(name("async.cmds"), Command.class);
    Set<String> threads = ConcurrentHashMap.newKeySet();
    Set<Boolean> onHandlerThread = ConcurrentHashMap.newKeySet();
    Subscription s =
        m.serveAsync(
            channel,
            (Command c, dev.parley.messaging.MessageContext ctx) -> {
              threads.add(Thread.currentThread().getName());
              onHandlerThread.add(HandlerThread.isCurrent());
              return CompletableFuture.completedFuture(new Reply(c.text(), c.number() + 1));
            },
            fast());
    List<CompletableFuture<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      replies.add(m.request(channel, new Command("x", i), Reply.class, WAIT));
    }
    for (int i = 0; i < 50; i++) {
      assertThat(replies.get(i).join().number()).isEqualTo(i + 1);
    }
    assertThat(threads).noneMatch(t -> t.startsWith("parley-handler-"));
    assertThat(onHandlerThread).containsExactly(false);
    assertThat(s.describe())
        .contains("asynchronous handler")
        .contains("deadline → decode → retry")
        .endsWith("reply → handler(async)");
  }

  /**
   * A caller that closes while replies are streaming in ends each of its calls — answered, or
   * failed with {@code parley.closed} — and leaves the transport it shares with others alone: no
   * reconnect, and the next caller on it gets its answers. (On RabbitMQ's STOMP, stopping a reply
   * subscription with a reply in hand once dropped the connection to "give back" what the broker
   * had already taken as acknowledged.)
   */
  @Test
  void aCallerClosingWithCallsInFlightLeavesItsTransportAlone() {
    Transport responderSide = transport();
    Transport shared = transport();
    Channel<Command> channel = Channel.command(name("close.in.flight"), Command.class);
    messaging("responder", responderSide)
        .serve(
            channel,
            (Command c, dev.parley.messaging.MessageContext ctx) -> new Reply(c.text(), c.number()),
            fast());
    long reconnectsBefore = reconnects(shared);
    for (int round = 0; round < 5; round++) {
      Messaging caller =
          Messaging.builder()
              .service("closing")
              .transport(shared)
              .codecs(Codecs.discover())
              .build();
      resources.add(caller);
      assertThat(caller.request(channel, new Command("first", 0), Reply.class, WAIT))
          .succeedsWithin(WAIT);
      List<CompletableFuture<Reply>> calls = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        calls.add(caller.request(channel, new Command("x", i), Reply.class, WAIT));
      }
      calls.get(20).join(); // replies are streaming in
      caller.close();
      assertThat(
              CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).handle((v, e) -> v))
          .as("round %d: every call ends", round)
          .succeedsWithin(WAIT);
      for (CompletableFuture<Reply> call : calls) {
        if (call.isCompletedExceptionally()) {
          assertThatThrownBy(call::join)
              .as("round %d: a call the close ended", round)
              .cause()
              .isInstanceOf(TransportException.class)
              .extracting(e -> ((TransportException) e).errorCode())
              .isEqualTo("parley.closed");
        }
      }
    }
    assertThat(reconnects(shared))
        .as("the shared transport kept its connection")
        .isEqualTo(reconnectsBefore);
    assertThat(isConnected(shared)).isTrue();
    assertThat(
            messaging("next", shared).request(channel, new Command("after", 1), Reply.class, WAIT))
        .succeedsWithin(WAIT);
  }

  /**
   * Sends in flight when the transport closes get the broker's answer: close waits for it (up to
   * the transport's close timeout), as a Kafka producer's close flushes, so a healthy broker's
   * acceptance is never reported as a failure — a caller told "failed" would send again, and the
   * message would be there twice. (On RabbitMQ's STOMP, up to 16 % of 1,000 sends made just before
   * the close failed as connection_lost once: the plugin answers the DISCONNECT before the sends'
   * receipts, which wait for the queue's confirm.)
   */
  @Test
  void sendsInFlightAtCloseGetTheBrokersAnswer() {
    Transport transport = newTransport();
    Destination.Queue queue = new Destination.Queue(name("in.flight.at.close"));
    // consumed on a transport of its own, so that the queue exists and every message is counted
    List<Message> received = consume(transport(), queue);
    transport
        .send(queue, Message.builder().payload(new byte[] {0}).build(), SendOptions.NONE)
        .join();
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int i = 1; i <= 1000; i++) {
      sends.add(
          transport.send(
              queue,
              Message.builder()
                  .payload(Integer.toString(i).getBytes(StandardCharsets.UTF_8))
                  .build(),
              SendOptions.NONE));
    }
    transport.close();
    for (CompletableFuture<Void> send : sends) {
      assertThat(send).as("a send the broker was handed before the close").succeedsWithin(WAIT);
    }
    await().atMost(WAIT).until(() -> received.size() == 1001);
  }

  /**
   * A send after close fails its future — it does not throw — with one code on every transport,
   * confirmed or not (a request, {@link SendOptions#REQUEST}).
   */
  @Test
  void sendAfterCloseFailsTheFutureWithTheClosedCode() {
    Transport transport = newTransport();
    transport.close();
    for (SendOptions options : List.of(SendOptions.NONE, SendOptions.REQUEST)) {
      CompletableFuture<Void> sent =
          transport.send(
              new Destination.Queue(name("after.close")),
              Message.builder().payload(new byte[] {1}).build(),
              options);
      assertThatThrownBy(sent::join)
          .as("send with %s", options)
          .hasCauseInstanceOf(TransportException.class)
          .cause()
          .extracting(e -> ((TransportException) e).errorCode())
          .isEqualTo(Transport.CLOSED);
    }
  }

  /**
   * Requests go out unconfirmed ({@link SendOptions#REQUEST}, their reply confirms them): each one
   * the broker was handed arrives once, in order on one connection, like a confirmed send.
   */
  @Test
  void unconfirmedRequestsArriveOnceInOrder() {
    Transport transport = transport();
    String queue = name("requests.unconfirmed");
    List<String> received = Collections.synchronizedList(new ArrayList<>());
    resources.add(
        transport.subscribe(
            new Destination.Queue(queue),
            new ConsumerSettings(1, 50, false),
            DeliveryHandler.settling(
                d -> {
                  received.add(d.message().id());
                  return CompletableFuture.completedFuture(null);
                })));
    List<String> sent = new ArrayList<>();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      Message message =
          Message.builder()
              .header(Headers.REPLY_TO, "parley.reply.tck." + i)
              .payload(new byte[] {(byte) i})
              .build();
      sent.add(message.id());
      futures.add(transport.send(new Destination.Queue(queue), message, SendOptions.REQUEST));
    }
    futures.forEach(f -> assertThat(f).succeedsWithin(WAIT));
    await().atMost(WAIT).until(() -> received.size() >= sent.size());
    assertThat(received).containsExactlyElementsOf(sent);
  }

  /**
   * A group's queue deleted under its running subscription (an operator's mistake, a reset of the
   * broker's definitions), the connection up: the subscription consumes again by itself — from the
   * queue its transport declares or creates again — and handles what is published afterwards.
   * Events published while no queue was bound are dropped, as for any event nobody subscribed to.
   */
  @Test
  void aSubscriptionWhoseQueueIsDeletedConsumesAgain() throws Exception {
    Messaging m = messaging("deleted");
    Channel<Event> channel = Channel.event(name("deleted"), Event.class);
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    m.subscribe(channel, "g", handler);
    m.publish(channel, new Event("k", 0, "before")).join();
    await().atMost(WAIT).until(() -> handler.callCount() == 1);

    deleteQueue(new Destination.GroupQueue(channel.name(), "g"));

    // publishing fails while a transport reconnects to subscribe again (STOMP): publish until
    // an event published after the deletion is handled (at most 120)
    AtomicInteger after = new AtomicInteger();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .until(
            () -> {
              m.publish(channel, new Event("k", after.incrementAndGet(), "after")).join();
              return handler.callCount() > 1;
            });
    assertThat(handler.payloads()).extracting(Event::text).contains("after");
  }

  /** A request while the broker is down fails — at once or by its timeout — and never hangs. */
  @Test
  void aRequestWhileTheBrokerIsDownFailsWithoutHanging() {
    Transport transport = transport();
    Messaging caller = messaging("orders", transport);
    Channel<Command> channel = Channel.command(name("down"), Command.class);
    assertThat(caller.request(channel, new Command("x", 0), Reply.class, Duration.ofMillis(200)))
        .failsWithin(WAIT); // the reply queue and the command queue exist
    CompletableFuture<Reply> whileDown;

    stopBroker();
    try {
      whileDown = caller.request(channel, new Command("x", 1), Reply.class, Duration.ofSeconds(3));
      assertThat(whileDown)
          .failsWithin(WAIT)
          .withThrowableOfType(ExecutionException.class)
          .satisfies(
              e ->
                  assertThat(e.getCause())
                      .isInstanceOfAny(TransportException.class, DeadlineExceededException.class));
    } finally {
      startBroker();
    }
    assertThat(caller.metrics().pendingRequests()).isZero();
  }

  /**
   * A service stopped while its broker is down ends at once: no settlement, reply or send can reach
   * the broker, which has every unsettled delivery back already, so neither its subscriptions nor
   * its transport wait out their close bounds — not for an idle consumer, not for a partitioned
   * group's member, not for a delivery still being handled, not for a send made in the outage.
   */
  @Test
  void closingWhileTheBrokerIsDownEndsAtOnce() throws Exception {
    Transport transport = transport();
    Messaging stopping = messaging("stopping", transport);
    Channel<Event> channel = Channel.event(name("stopping"), Event.class);
    RecordingHandler<Event> idle = RecordingHandler.succeeding();
    stopping.subscribe(channel, "idle", idle, fast());
    Channel<Event> partitioned =
        Channel.event(name("stopping.ordered"), Event.class).withPartitionKey(Event::key);
    RecordingHandler<Event> ordered = RecordingHandler.succeeding();
    stopping.subscribe(partitioned, "ordered", ordered, fast());
    CompletableFuture<Void> stillHandling = new CompletableFuture<>();
    AtomicInteger handling = new AtomicInteger();
    stopping.subscribeAsync(
        channel,
        "busy",
        (event, ctx) -> {
          handling.incrementAndGet();
          return stillHandling;
        },
        fast());
    stopping.publish(channel, new Event("k", 1, "")).get(10, TimeUnit.SECONDS);
    stopping.publish(partitioned, new Event("k", 1, "")).get(10, TimeUnit.SECONDS);
    await()
        .atMost(WAIT)
        .until(() -> idle.callCount() == 1 && handling.get() == 1 && ordered.callCount() == 1);

    long closeMillis;
    stopBroker();
    try {
      await().atMost(WAIT).until(() -> !isConnected(transport));
      CompletableFuture<Message> duringOutage = stopping.publish(channel, new Event("k", 2, ""));
      long start = System.nanoTime();
      CompletableFuture.runAsync(
              () -> {
                stopping.close();
                transport.close();
              })
          .get(60, TimeUnit.SECONDS);
      closeMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(duringOutage).failsWithin(WAIT);
    } finally {
      stillHandling.complete(null);
      startBroker();
    }
    System.out.printf("closed while the broker was down in %d ms%n", closeMillis);
    assertThat(closeMillis).as("close while the broker is down, in ms").isLessThan(2_500);
  }

  // ---- broker failures ---------------------------------------------------------------------

  @Test
  void acceptedMessagesSurviveABrokerRestart() {
    Transport transport = transport();
    Messaging m = messaging("durable", transport);
    Channel<Event> channel = Channel.event(name("durable"), Event.class);
    m.subscribe(channel, "g", RecordingHandler.succeeding(), fast()).close();
    publishAll(m, channel, 25);

    try {
      stopBroker();
    } finally {
      startBroker();
    }
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    await().atMost(WAIT).untilAsserted(() -> assertThat(reconnects(transport)).isPositive());
    m.subscribe(channel, "g", handler, fast());

    await().atMost(WAIT).until(() -> handler.callCount() >= 25);
    assertThat(new HashSet<>(seqs(handler))).isEqualTo(new HashSet<>(range(25)));
  }

  @Test
  void sendFailsWithinBoundWhileBrokerIsDownAndRecoversAfter() {
    Transport transport = transport();
    Messaging m = messaging("resilient", transport);
    Channel<Event> channel = Channel.event(name("events"), Event.class);
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    m.subscribe(channel, "g", handler, fast());
    CompletableFuture<Message> whileDown;

    stopBroker();
    try {
      whileDown = m.publish(channel, new Event("k", 1, "lost?"));
      assertThat(whileDown)
          .failsWithin(WAIT)
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(TransportException.class);
    } finally {
      startBroker();
    }

    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () -> m.publish(channel, new Event("k", 2, "after")).get(10, TimeUnit.SECONDS) != null);
    await().atMost(WAIT).until(() -> seqs(handler).contains(2));
    assertThat(reconnects(transport)).isPositive();
  }

  /**
   * The transport is built and used on a thread of a thread group of its own, so the threads it
   * starts (and those its client library starts, which inherit the group) are told apart from
   * threads other tests in this JVM left behind: only this group's count.
   */
  @Test
  void closeReleasesThreadsConsumersAndConnections() throws Throwable {
    ThreadGroup group = new ThreadGroup("tck-close-" + prefix);
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread body =
        new Thread(
            group,
            () -> {
              try {
                closeReleasesThreadsConsumersAndConnections(group);
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "tck-close-body");
    body.start();
    body.join(WAIT.multipliedBy(4).toMillis());
    assertThat(body.isAlive()).as("the test body finished").isFalse();
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  private void closeReleasesThreadsConsumersAndConnections(ThreadGroup group) {
    int connectionsBefore = settledConnectionCount();
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    Transport transport = newTransport();
    Messaging m =
        Messaging.builder().service("leaky").transport(transport).codecs(Codecs.discover()).build();
    Channel<Event> events = Channel.event(name("events"), Event.class);
    Channel<Command> commands = Channel.command(name("commands"), Command.class);
    RecordingHandler<Event> handler = RecordingHandler.succeeding();
    m.subscribe(events, "g", handler, fast().withConcurrency(3));
    m.serve(
        commands,
        (Command c, dev.parley.messaging.MessageContext ctx) -> new Reply(c.text(), 1),
        fast());
    m.publish(events, new Event("k", 1, "x")).join();
    assertThat(m.request(commands, new Command("ping", 1), Reply.class, Duration.ofSeconds(20)))
        .succeedsWithin(WAIT);
    await().atMost(WAIT).until(() -> handler.callCount() == 1);
    assertThat(brokerConnectionCount()).isGreaterThan(connectionsBefore);

    m.close();
    transport.close();
    m.close();
    transport.close();

    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(brokerConnectionCount()).isEqualTo(connectionsBefore));
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(newLiveThreads(threadsBefore, group)).isEmpty());
    assertThatThrownBy(() -> m.publish(events, new Event("k", 2, "y")))
        .isInstanceOf(IllegalStateException.class);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /**
   * The broker's connection count once two readings 200 ms apart agree: an earlier test's
   * connections may still be closing on the broker's side (a clean clone once read 1 here, then saw
   * that connection go while this test's came, and found no growth).
   */
  private int settledConnectionCount() {
    AtomicInteger last = new AtomicInteger(-1);
    await()
        .atMost(WAIT)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              int now = brokerConnectionCount();
              return now == last.getAndSet(now);
            });
    return last.get();
  }

  /** The {@link RemoteException} a request's future fails with (a failure reply), within WAIT. */
  private static RemoteException remoteFailure(CompletableFuture<?> reply) {
    Throwable cause =
        assertThat(reply).failsWithin(WAIT).withThrowableOfType(ExecutionException.class).actual();
    assertThat(cause.getCause()).isInstanceOf(RemoteException.class);
    return (RemoteException) cause.getCause();
  }

  /**
   * Fast tiers for tests: 3 immediate attempts 10 ms apart, one delayed redelivery after 200 ms.
   */
  protected static SubscriptionOptions fast() {
    return SubscriptionOptions.defaults()
        .withRedelivery(Redelivery.of(3, Duration.ofMillis(10), Duration.ofMillis(200)));
  }

  protected String name(String base) {
    return prefix + base;
  }

  protected Transport transport() {
    Transport t = newTransport();
    resources.add(t);
    return t;
  }

  protected Messaging messaging(String service) {
    return messaging(service, transport());
  }

  protected Messaging messaging(String service, Transport transport) {
    Messaging m =
        Messaging.builder()
            .service(service)
            .transport(transport)
            .codecs(Codecs.discover())
            .subscriptionOptions(fast())
            .build();
    resources.add(m);
    return m;
  }

  private List<Message> consume(Transport transport, Destination source) {
    List<Message> received = new CopyOnWriteArrayList<>();
    TransportSubscription s =
        transport.subscribe(
            source,
            new ConsumerSettings(1, 10, false),
            (d, settlement) -> {
              received.add(d.message());
              settlement.ack();
            });
    resources.add(s);
    return received;
  }

  private static void publishAll(Messaging m, Channel<Event> channel, int count) {
    List<CompletableFuture<Message>> sends = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sends.add(m.publish(channel, new Event("k" + i, i, "event " + i)));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
  }

  private static void publishOrdered(
      Messaging m, Channel<Event> channel, int keys, int fromSeq, int toSeq) {
    for (int seq = fromSeq; seq < toSeq; seq++) {
      List<CompletableFuture<Message>> round = new ArrayList<>();
      for (int k = 0; k < keys; k++) {
        round.add(m.publish(channel, new Event("key-" + k, seq, "")));
      }
      CompletableFuture.allOf(round.toArray(CompletableFuture[]::new)).join();
    }
  }

  private static List<Integer> seqs(RecordingHandler<Event> handler) {
    return handler.payloads().stream().map(Event::seq).toList();
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private static int total(Map<String, List<Integer>> seen) {
    return seen.values().stream().mapToInt(List::size).sum();
  }

  private static int distinct(Map<String, List<Integer>> seen) {
    return seen.values().stream().mapToInt(l -> new HashSet<>(l).size()).sum();
  }

  /** Threads started since {@code before} in {@code group} (or a group under it), still alive. */
  private static Set<String> newLiveThreads(Set<Thread> before, ThreadGroup group) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive())
        .filter(t -> t != Thread.currentThread() && inGroup(t, group))
        .map(Thread::getName)
        .filter(name -> !name.startsWith("ForkJoinPool") && !name.startsWith("awaitility"))
        .filter(name -> !name.contains("globalEventExecutor") && !name.startsWith("Attach"))
        .filter(name -> !name.startsWith("CompletableFutureDelayScheduler"))
        // one per JVM, started at the first deadline and never stopped (DeadlineTimer.SHARED)
        .filter(name -> !name.equals("parley-deadline-timer"))
        // what timeouts complete on (TimeoutThreads): they end after 30 s idle
        .filter(name -> !name.startsWith("parley-timeout-"))
        // one per JVM too, started at the first send waiting for the broker (PendingSends)
        .filter(name -> !name.equals("parley-send-timeouts"))
        .filter(
            name ->
                !name.startsWith("activemq-")
                    && !name.startsWith("Thread-")
                    && !name.startsWith("ActiveMQ"))
        .collect(Collectors.toSet());
  }

  private static boolean inGroup(Thread t, ThreadGroup group) {
    for (ThreadGroup g = t.getThreadGroup(); g != null; g = g.getParent()) {
      if (g == group) {
        return true;
      }
    }
    return false;
  }
}
