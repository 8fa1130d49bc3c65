package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.TransportException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The pipeline's decisions, driven by a fake clock; the transport here only records sends. */
class ConsumerPipelineTest {

  private static final Destination.GroupQueue SOURCE =
      new Destination.GroupQueue("orders", "billing");
  private static final Channel<String> EVENTS = Channel.event("orders", String.class);

  private final FakeClock clock = new FakeClock(1_000_000);
  private final RecordingTransport transport = new RecordingTransport();
  private final Counters counters = new Counters();
  private final List<Integer> attempts = new ArrayList<>();

  @Test
  void dropsAnExpiredMessageWithoutCallingTheHandler() {
    Pipe pipeline = pipeline(EVENTS, Redelivery.none(), (p, ctx) -> fail("handler must not run"));
    Message expired = message("x").header(Headers.DEADLINE, Long.toString(clock.millis())).build();

    pipeline.onDelivery(delivery(expired)).toCompletableFuture().join();

    assertThat(counters.expired.sum()).isEqualTo(1);
    assertThat(transport.sends).isEmpty();
  }

  @Test
  void handlesAMessageBeforeItsDeadline() {
    Pipe pipeline =
        pipeline(
            EVENTS,
            Redelivery.none(),
            (p, ctx) -> {
              assertThat(ctx.deadline()).contains(Instant.ofEpochMilli(clock.millis() + 1));
              return null;
            });

    pipeline
        .onDelivery(
            delivery(
                message("x").header(Headers.DEADLINE, Long.toString(clock.millis() + 1)).build()))
        .toCompletableFuture()
        .join();

    assertThat(counters.handled.sum()).isEqualTo(1);
  }

  @Test
  void retriesImmediatelyThenSchedulesADelayedRedeliveryThroughTheBroker() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.of(2, Duration.ZERO, Duration.ofSeconds(5)), alwaysFailing());
    Message original = message("x").build();

    pipeline.onDelivery(delivery(original)).toCompletableFuture().join();

    assertThat(attempts).containsExactly(1, 2);
    assertThat(transport.sends).hasSize(1);
    Sent redelivery = transport.sends.get(0);
    assertThat(redelivery.destination()).isEqualTo(SOURCE);
    assertThat(redelivery.options().delay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(redelivery.message().id()).isEqualTo(original.id());
    assertThat(redelivery.message().headers())
        .containsEntry(Headers.ATTEMPT, "3")
        .containsEntry(Headers.FIRST_FAILURE_TIME, Long.toString(clock.millis()));
    assertThat(counters.redelivered.sum()).isEqualTo(1);
  }

  @Test
  void consumerPolicyStopsCallingTheHandlerWhileItsCircuitIsOpenAndRedelivers() {
    Policy policy =
        Policy.builder().circuitBreaker(100, 2, Duration.ofHours(1), 1).clock(clock).build();
    Pipe pipeline =
        pipeline(
            EVENTS,
            Redelivery.of(1, Duration.ZERO, Duration.ofSeconds(5)),
            policy,
            alwaysFailing());

    pipeline.onDelivery(delivery(message("a").build())).toCompletableFuture().join();
    pipeline.onDelivery(delivery(message("b").build())).toCompletableFuture().join();
    pipeline.onDelivery(delivery(message("c").build())).toCompletableFuture().join();

    assertThat(policy.circuitState()).isEqualTo(dev.parley.policy.CircuitState.OPEN);
    assertThat(attempts).as("handler calls").hasSize(2);
    Sent third = transport.sends.get(2);
    assertThat(third.destination()).as("redelivered, not dead-lettered").isEqualTo(SOURCE);
    assertThat(third.options().delay()).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.metrics().circuitOpen()).isEqualTo(1);
  }

  @Test
  void consumerPolicyBulkheadBoundsHandlerCallsInFlight() throws Exception {
    Policy policy = Policy.builder().bulkhead(1).build();
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Pipe slow =
        pipeline(
            EVENTS,
            Redelivery.of(1, Duration.ZERO, Duration.ofSeconds(5)),
            policy,
            (p, ctx) -> {
              inside.countDown();
              release.await(10, java.util.concurrent.TimeUnit.SECONDS);
              return null;
            });
    java.util.concurrent.CompletableFuture<Void> first =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> slow.onDelivery(delivery(message("a").build())).toCompletableFuture().join());
    assertThat(inside.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

    slow.onDelivery(delivery(message("b").build())).toCompletableFuture().join();
    release.countDown();
    first.get(10, java.util.concurrent.TimeUnit.SECONDS);

    assertThat(policy.metrics().bulkheadFull()).isEqualTo(1);
    assertThat(transport.sends).hasSize(1);
    assertThat(transport.sends.get(0).message().payload())
        .isEqualTo(message("b").build().payload());
    assertThat(counters.handled.sum()).isEqualTo(1);
  }

  @Test
  void deadLettersWhenTheLastAttemptFails() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.of(2, Duration.ZERO, Duration.ofSeconds(5)), alwaysFailing());
    Message lastTry =
        message("x").header(Headers.ATTEMPT, "3").header(Headers.FIRST_FAILURE_TIME, "42").build();

    pipeline.onDelivery(delivery(lastTry)).toCompletableFuture().join();

    assertThat(attempts).containsExactly(3);
    Sent dead = transport.sends.get(0);
    assertThat(dead.destination()).isEqualTo(new Destination.Queue("orders.billing.dlq"));
    assertThat(dead.message().headers())
        .containsEntry(Headers.ERROR_CODE, "parley.handler.failed")
        .containsEntry(Headers.ERROR_MESSAGE, "boom")
        .containsEntry(Headers.EXCEPTION_CLASS, IllegalStateException.class.getName())
        .containsEntry(Headers.ORIGINAL_CHANNEL, "orders")
        .containsEntry(Headers.ORIGINAL_QUEUE, "orders.billing")
        .containsEntry(Headers.ATTEMPT, "3")
        .containsEntry(Headers.FIRST_FAILURE_TIME, "42");
    assertThat(counters.deadLettered.sum()).isEqualTo(1);
  }

  @Test
  void anAttemptHeaderFromOutsideIsClampedToTheLastAttempt() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.of(2, Duration.ZERO, Duration.ofSeconds(5)), alwaysFailing());
    Message forged =
        message("x").header(Headers.ATTEMPT, Integer.toString(Integer.MAX_VALUE)).build();

    pipeline.onDelivery(delivery(forged)).toCompletableFuture().join();

    assertThat(attempts).containsExactly(3);
    assertThat(transport.sends).hasSize(1);
    assertThat(transport.sends.get(0).message().headers()).containsEntry(Headers.ATTEMPT, "3");
  }

  @Test
  void aNonPositiveDeadlineIsBadInputNotExpiry() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.defaults(), (p, ctx) -> fail("handler must not run"));

    pipeline
        .onDelivery(delivery(message("x").header(Headers.DEADLINE, "-1").build()))
        .toCompletableFuture()
        .join();

    assertThat(counters.expired.sum()).isZero();
    assertThat(transport.sends.get(0).message().headers())
        .containsEntry(Headers.ERROR_CODE, "parley.header.invalid")
        .doesNotContainKey(Headers.DEADLINE);
  }

  @Test
  void aBadReplyAddressIsBadInputAndTheHandlerDoesNotRun() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.defaults(), (p, ctx) -> fail("handler must not run"));

    pipeline
        .onDelivery(delivery(message("x").header(Headers.REPLY_TO, "has space").build()))
        .toCompletableFuture()
        .join();

    assertThat(transport.sends).hasSize(1); // the dead letter; no reply to an address it cannot use
    assertThat(transport.sends.get(0).message().headers())
        .containsEntry(Headers.ERROR_CODE, "parley.header.invalid_reply_to")
        .containsEntry(Headers.ATTEMPT, "1");
  }

  @Test
  void badInputIsDeadLetteredAfterOneAttempt() {
    Pipe pipeline =
        pipeline(
            EVENTS,
            Redelivery.defaults(),
            (p, ctx) -> {
              attempts.add(ctx.attempt());
              throw new BadInputException("order.invalid", "no items");
            });

    pipeline.onDelivery(delivery(message("x").build())).toCompletableFuture().join();

    assertThat(attempts).containsExactly(1);
    assertThat(transport.sends.get(0).message().headers())
        .containsEntry(Headers.ERROR_CODE, "order.invalid");
  }

  @Test
  void undecodablePayloadIsDeadLetteredWithTheCodecErrorCode() {
    Pipe pipeline =
        pipeline(EVENTS, Redelivery.defaults(), (p, ctx) -> fail("handler must not run"));
    Message noType = Message.builder().payload(new byte[] {1}).build();
    Message badDeadline = message("x").header(Headers.DEADLINE, "tomorrow").build();

    pipeline.onDelivery(delivery(noType)).toCompletableFuture().join();
    pipeline.onDelivery(delivery(badDeadline)).toCompletableFuture().join();

    assertThat(transport.sends)
        .extracting(s -> s.message().headers().get(Headers.ERROR_CODE))
        .containsExactly(CodecException.MISSING_CONTENT_TYPE, "parley.header.invalid");
  }

  /**
   * A codec that breaks its contract on some bytes (an unchecked exception other than {@code
   * CodecException}, or an Error): decoding is a function of the bytes, so the next delivery would
   * fail alike — dead-lettered after one delivery, not given back to the broker again and again.
   */
  @Test
  void aCodecThatThrowsSomethingElseIsBadInputDeadLetteredOnce() {
    List<Throwable> failures =
        List.of(new IllegalStateException("codec bug"), new StackOverflowError());
    for (Throwable failure : failures) {
      transport.sends.clear();
      ConsumerPipeline<String, Object> pipeline =
          new ConsumerPipeline<>(
              EVENTS,
              "billing",
              ConsumerPipeline.Invoker.blocking((p, ctx) -> fail("handler must not run")),
              new SubscriptionOptions(1, 10, Redelivery.defaults(), Policy.none()),
              List.of(),
              List.of(),
              transport,
              Codecs.of(
                  new TextCodec() {
                    @Override
                    public <T> T decode(byte[] bytes, Class<T> type) {
                      if (failure instanceof Error e) {
                        throw e;
                      }
                      throw (RuntimeException) failure;
                    }
                  }),
              clock,
              counters,
              SCHEDULER,
              Runnable::run,
              ReplyTargets.defaults(transport));

      pipeline.process(delivery(message("x").build()), UNSETTLED).toCompletableFuture().join();

      assertThat(transport.sends).hasSize(1);
      assertThat(transport.sends.get(0).destination()).isEqualTo(SOURCE.deadLetter());
      assertThat(transport.sends.get(0).message().headers())
          .containsEntry(Headers.ERROR_CODE, CodecException.MALFORMED)
          .containsEntry(Headers.ATTEMPT, "1");
    }
  }

  @Test
  void aMessageWithoutAContentTypeIsReadAsTheChannelsDefault() {
    List<String> handled = new ArrayList<>();
    Pipe pipeline =
        pipeline(
            EVENTS.withDefaultContentType("text/plain"),
            Redelivery.defaults(),
            (p, ctx) -> {
              handled.add(p);
              return null;
            });
    Message noType = Message.builder().payload("soup".getBytes(StandardCharsets.UTF_8)).build();
    Message blank = message("stew").header(Headers.CONTENT_TYPE, " ").build();
    Message named = message("pie").header(Headers.CONTENT_TYPE, "application/json").build();

    pipeline.onDelivery(delivery(noType)).toCompletableFuture().join();
    pipeline.onDelivery(delivery(blank)).toCompletableFuture().join();
    pipeline.onDelivery(delivery(named)).toCompletableFuture().join();

    assertThat(handled).containsExactly("soup", "stew");
    assertThat(transport.sends) // the named type is read as named: no codec for it here
        .extracting(s -> s.message().headers().get(Headers.ERROR_CODE))
        .containsExactly(CodecException.UNSUPPORTED_CONTENT_TYPE);
  }

  @Test
  void partitionedChannelRetriesInPlaceInsteadOfRequeueing() {
    Channel<String> ordered = EVENTS.withPartitionKey(s -> s);
    Pipe pipeline =
        pipeline(
            ordered,
            Redelivery.of(1, Duration.ZERO, Duration.ZERO),
            (p, ctx) -> {
              attempts.add(ctx.attempt());
              if (ctx.attempt() == 1) {
                throw new IllegalStateException("once");
              }
              return null;
            });

    pipeline.onDelivery(delivery(message("x").build())).toCompletableFuture().join();

    assertThat(attempts).containsExactly(1, 2);
    assertThat(transport.sends).isEmpty();
    assertThat(counters.handled.sum()).isEqualTo(1);
  }

  @Test
  void aPartitionedRetryIsScheduledNotWaitedFor() {
    Channel<String> ordered = EVENTS.withPartitionKey(s -> s);
    Pipe pipeline =
        pipeline(
            ordered,
            Redelivery.of(1, Duration.ZERO, Duration.ofMillis(300)),
            (p, ctx) -> {
              attempts.add(ctx.attempt());
              if (ctx.attempt() == 1) {
                throw new IllegalStateException("once");
              }
              return null;
            });

    CompletableFuture<Object> outcome =
        pipeline.onDelivery(delivery(message("x").build())).toCompletableFuture();

    // The first attempt failed on this thread; the second waits on the scheduler, not here.
    assertThat(attempts).containsExactly(1);
    assertThat(outcome).isNotDone();
    outcome.join();
    assertThat(attempts).containsExactly(1, 2);
    assertThat(transport.sends).isEmpty();
  }

  @Test
  void interceptorsRunInOrderAroundParleysStepsAndMayStopADelivery() {
    List<String> trace = new java.util.concurrent.CopyOnWriteArrayList<>();
    DeliveryInterceptor outer = named("outer", trace);
    DeliveryInterceptor inner = named("inner", trace);
    ConsumerPipeline<String, Object> chain =
        chain(
            EVENTS,
            "billing",
            (p, ctx) -> {
              trace.add("handler " + p);
              return null;
            },
            SubscriptionOptions.defaults(),
            List.of(outer, inner));

    pipe(chain).onDelivery(delivery(message("x").build())).toCompletableFuture().join();

    assertThat(trace)
        .containsExactly(
            "outer > payload=false", "inner > payload=false", "handler x", "inner <", "outer <");
    assertThat(chain.describe())
        .startsWith("outer → inner → deadline → decode → retry[immediate 3, tiers [PT1S, PT10S]]")
        .endsWith("→ reply → handler");

    trace.clear();
    DeliveryInterceptor stop =
        invocation -> CompletableFuture.completedFuture(null); // does not proceed
    ConsumerPipeline<String, Object> stopped =
        chain(
            EVENTS,
            "billing",
            (p, ctx) -> fail("stopped before the handler"),
            SubscriptionOptions.defaults(),
            List.of(stop));
    assertThat(pipe(stopped).onDelivery(delivery(message("y").build())).toCompletableFuture())
        .isCompleted();
  }

  @Test
  void anInterceptorSeesWhatBecameOfEachDelivery() {
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    DeliveryInterceptor outcomes =
        inv -> {
          assertThat(inv.outcome()).isEmpty(); // nothing has happened yet
          return inv.proceed()
              .whenComplete(
                  (v, e) ->
                      seen.add(
                          inv.message().id()
                              + " "
                              + (e != null
                                  ? "failed"
                                  : inv.outcome().map(Enum::name).orElse("none"))
                              + inv.failure()
                                  .map(f -> " " + ConsumerPipeline.statusOf(f).errorCode())
                                  .orElse("")));
        };
    java.util.Set<String> handledAlready = java.util.Set.of("dup");
    SubscriptionOptions options =
        new SubscriptionOptions(1, 10, Redelivery.of(2, Duration.ZERO, Duration.ofSeconds(5)))
            .withInbox((group, m) -> handledAlready.contains(m.id()));
    List<String> calls = new ArrayList<>();
    ConsumerPipeline<String, Object> chain =
        chain(
            EVENTS,
            "billing",
            (p, ctx) -> {
              calls.add(p + "#" + ctx.attempt());
              if (p.equals("fail") || (p.equals("flaky") && ctx.attempt() == 1)) {
                throw new IllegalStateException("boom");
              }
              return null;
            },
            options,
            List.of(outcomes));
    Pipe pipe = pipe(chain);

    pipe.onDelivery(delivery(message("ok").id("ok").build())).toCompletableFuture().join();
    pipe.onDelivery(delivery(message("flaky").id("flaky").build())).toCompletableFuture().join();
    pipe.onDelivery(delivery(message("dup").id("dup").build())).toCompletableFuture().join();
    pipe.onDelivery(
            delivery(
                message("late")
                    .id("late")
                    .header(Headers.DEADLINE, Long.toString(clock.millis()))
                    .build()))
        .toCompletableFuture()
        .join();
    pipe.onDelivery(delivery(message("fail").id("fail").build())).toCompletableFuture().join();
    pipe.onDelivery(delivery(message("fail").id("last").header(Headers.ATTEMPT, "3").build()))
        .toCompletableFuture()
        .join();
    pipe.onDelivery(
            delivery(
                message("bad")
                    .id("bad")
                    .header(Headers.CONTENT_TYPE, "application/x-nope")
                    .build()))
        .toCompletableFuture()
        .join();
    transport.failSends = true; // the dead letter not taken: the message goes back to the broker
    pipe.onDelivery(delivery(message("fail").id("lost").header(Headers.ATTEMPT, "3").build()))
        .toCompletableFuture()
        .handle((v, e) -> e)
        .join();

    assertThat(seen)
        .containsExactly(
            "ok HANDLED",
            "flaky HANDLED",
            "dup DUPLICATE",
            "late EXPIRED",
            "fail REDELIVERED parley.handler.failed",
            "last DEAD_LETTERED parley.handler.failed",
            "bad DEAD_LETTERED " + seenCodeOfAnUnknownContentType(),
            "lost failed");
    assertThat(calls) // "fail" twice, then "last" and "lost" at their last attempt; not "dup"
        .containsExactly("ok#1", "flaky#1", "flaky#2", "fail#1", "fail#2", "fail#3", "fail#3");
  }

  /**
   * An interceptor of each attempt runs inside the retry step, around every handling attempt — the
   * first and each retry — and sees a failed attempt fail; it does not run for a message the steps
   * before retry dealt with. One of the whole delivery sees it once.
   */
  @Test
  void anAttemptInterceptorSeesEveryAttemptAndADeliveryInterceptorTheDeliveryOnce() {
    List<String> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
    DeliveryInterceptor perAttempt =
        inv ->
            inv.proceed()
                .whenComplete(
                    (v, e) ->
                        attempts.add(
                            inv.message().id()
                                + "#"
                                + inv.attempt()
                                + (e == null ? " ok" : " failed")
                                + " outcome="
                                + inv.outcome().map(Enum::name).orElse("none")));
    List<String> deliveries = new java.util.concurrent.CopyOnWriteArrayList<>();
    DeliveryInterceptor perDelivery =
        inv ->
            inv.proceed()
                .whenComplete(
                    (v, e) ->
                        deliveries.add(
                            inv.message().id()
                                + " "
                                + inv.outcome().map(Enum::name).orElse("none")));
    java.util.Set<String> handledAlready = java.util.Set.of("dup");
    SubscriptionOptions options =
        new SubscriptionOptions(1, 10, Redelivery.of(2, Duration.ZERO))
            .withInbox((group, m) -> handledAlready.contains(m.id()))
            .withAttemptInterceptor(perAttempt);
    ConsumerPipeline<String, Object> chain =
        chain(
            EVENTS,
            "billing",
            (p, ctx) -> {
              if (p.equals("fail") || (p.equals("flaky") && ctx.attempt() == 1)) {
                throw new IllegalStateException("boom");
              }
              return null;
            },
            options,
            List.of(perDelivery));
    Pipe pipe = pipe(chain);

    for (String id : List.of("ok", "flaky", "dup", "fail")) {
      pipe.onDelivery(delivery(message(id).id(id).build())).toCompletableFuture().join();
    }
    pipe.onDelivery(
            delivery(
                message("late")
                    .id("late")
                    .header(Headers.DEADLINE, Long.toString(clock.millis()))
                    .build()))
        .toCompletableFuture()
        .join();

    assertThat(attempts)
        .containsExactly(
            "ok#1 ok outcome=none",
            "flaky#1 failed outcome=none",
            "flaky#2 ok outcome=none",
            "fail#1 failed outcome=none",
            "fail#2 failed outcome=none");
    assertThat(deliveries)
        .containsExactly(
            "ok HANDLED", "flaky HANDLED", "dup DUPLICATE", "fail DEAD_LETTERED", "late EXPIRED");
    assertThat(chain.describe())
        .contains("→ retry[immediate 2, tiers []] → " + perAttempt.name() + " → reply → handler");
  }

  /**
   * The messaging's interceptors of each attempt come before the subscription's, inside the retry
   * step, and both run once per attempt.
   */
  @Test
  void theMessagingsAttemptInterceptorsComeBeforeTheSubscriptions() {
    List<String> trace = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Messaging messaging =
        Messaging.builder()
            .service("billing-service")
            .transport(transport)
            .codecs(Codecs.of(new TextCodec()))
            .attemptInterceptor(named("everywhere", trace))
            .build()) {
      Subscription s =
          messaging.subscribe(
              EVENTS,
              "billing",
              (p, ctx) -> {
                trace.add("handler " + p + "#" + ctx.attempt());
                if (ctx.attempt() == 1) {
                  throw new IllegalStateException("boom");
                }
              },
              messaging
                  .defaultSubscriptionOptions()
                  .withConcurrency(1)
                  .withAttemptInterceptor(named("here", trace)));
      assertThat(s.describe()).contains("] → everywhere → here → reply → handler");
      assertThat(messaging.describe()).contains(", each attempt through everywhere;");

      transport.subscribed.onDelivery(delivery(message("x").build()), UNSETTLED);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(trace)
                      .containsExactly(
                          "everywhere > payload=true",
                          "here > payload=true",
                          "handler x#1",
                          "here <",
                          "everywhere <",
                          "everywhere > payload=true",
                          "here > payload=true",
                          "handler x#2",
                          "here <",
                          "everywhere <"));
    }
  }

  /** The error code Parley gives a message whose content type no codec reads. */
  private String seenCodeOfAnUnknownContentType() {
    return transport.sends.stream()
        .filter(s -> s.message().id().equals("bad"))
        .map(s -> s.message().headers().get(Headers.ERROR_CODE))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aMessageTheTransportDeadLetteredGoesThroughTheInterceptorsAndItsCallerIsAnswered() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    DeliveryInterceptor outcomes =
        inv ->
            inv.proceed()
                .whenComplete(
                    (v, e) ->
                        seen.add(
                            inv.message().id()
                                + " "
                                + inv.outcome().orElseThrow()
                                + " "
                                + inv.failure().orElseThrow().getMessage()));
    ConsumerPipeline<String, Object> chain =
        chain(
            commands,
            "kitchen",
            (p, ctx) -> fail("never handed over"),
            SubscriptionOptions.defaults(),
            List.of(outcomes));
    Message headersOnly =
        Message.builder().id("big").header(Headers.REPLY_TO, "parley.reply.orders.1").build();

    chain.processDeadLettered(
        new Delivery(
            headersOnly,
            new Destination.Queue("kitchen"),
            1,
            new BadInputException(dev.parley.transport.spi.DeadLetters.TOO_LARGE, "too large")));

    assertThat(seen).containsExactly("big DEAD_LETTERED too large");
    assertThat(counters.received.sum()).isEqualTo(1);
    assertThat(counters.deadLettered.sum()).isEqualTo(1);
    assertThat(counters.handled.sum()).isZero();
    // The transport moved it: Parley sends no dead letter of its own, only the caller's answer.
    assertThat(transport.sends).hasSize(1);
    Sent reply = transport.sends.get(0);
    assertThat(reply.destination()).isEqualTo(new Destination.Queue("parley.reply.orders.1"));
    assertThat(reply.message().headers())
        .containsEntry(Headers.CORRELATION_ID, "big")
        .containsEntry(Headers.ERROR_CODE, dev.parley.transport.spi.DeadLetters.TOO_LARGE);
  }

  private static DeliveryInterceptor named(String name, List<String> trace) {
    return new DeliveryInterceptor() {
      @Override
      public java.util.concurrent.CompletionStage<Object> intercept(DeliveryInvocation inv) {
        trace.add(name + " > payload=" + inv.payload().isPresent());
        return inv.proceed().whenComplete((v, e) -> trace.add(name + " <"));
      }

      @Override
      public String name() {
        return name;
      }
    };
  }

  @Test
  void repliesToARequestWithCorrelationAndStatus() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    Pipe pipeline = pipeline(commands, Redelivery.none(), (p, ctx) -> p.toUpperCase());
    Message request = message("soup").header(Headers.REPLY_TO, "parley.reply.orders.1").build();

    pipeline
        .onDelivery(new Delivery(request, new Destination.Queue("kitchen"), 1))
        .toCompletableFuture()
        .join();

    Sent reply = transport.sends.get(0);
    assertThat(reply.destination()).isEqualTo(new Destination.Queue("parley.reply.orders.1"));
    // Only what the caller reads (wire.md section 1), and the reply's own id: every header costs
    // the broker work per message; a success carries no status (a reply without one is OK).
    assertThat(reply.message().headers())
        .containsOnlyKeys(Headers.ID, Headers.CORRELATION_ID, Headers.CONTENT_TYPE)
        .containsEntry(Headers.CORRELATION_ID, request.id())
        .containsEntry(Headers.CONTENT_TYPE, "text/plain");
    assertThat(new String(reply.message().payload(), StandardCharsets.UTF_8)).isEqualTo("SOUP");
    assertThat(reply.options()).isEqualTo(SendOptions.REPLY); // no fsync, nothing declared
  }

  /**
   * A handler that ends after the request's deadline: the reply still goes to a Parley reply queue
   * (its caller counts it as late) but not to the broker's own reply address of a caller that has
   * given up (a JMS temporary queue that may be gone, which Artemis would re-create).
   */
  @Test
  void aReplyAfterTheDeadlineIsNotSentToTheBrokersOwnReplyAddress() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    Pipe pipeline =
        pipeline(
            commands,
            Redelivery.none(),
            (p, ctx) -> {
              clock.millis += 100; // the handler takes longer than the caller waits
              return p.toUpperCase();
            });
    String deadline = Long.toString(clock.millis() + 50);
    Message toParley =
        message("soup")
            .header(Headers.REPLY_TO, "parley.reply.orders.1")
            .header(Headers.DEADLINE, deadline)
            .build();
    Message toTheBroker =
        message("stew")
            .header(Headers.REPLY_TO, "amq.gen-xyz")
            .header(Headers.DEADLINE, Long.toString(clock.millis() + 150))
            .build();
    Message inTime = message("pie").header(Headers.REPLY_TO, "amq.gen-abc").build(); // no deadline

    for (Message m : List.of(toParley, toTheBroker, inTime)) {
      pipeline
          .onDelivery(new Delivery(m, new Destination.Queue("kitchen"), 1))
          .toCompletableFuture()
          .join();
    }

    assertThat(counters.handled.sum()).isEqualTo(3);
    assertThat(transport.sends)
        .extracting(s -> ((Destination.Queue) s.destination()).name())
        .containsExactly("parley.reply.orders.1", "amq.gen-abc");
  }

  @Test
  void aRequestThatCarriesACorrelationIdGetsItBackAsTheRepliesOne() {
    // The RPC convention of AMQP 0-9-1 clients and JMS: the caller matches by the id it set.
    Channel<String> commands = Channel.command("kitchen", String.class);
    Pipe pipeline = pipeline(commands, Redelivery.none(), (p, ctx) -> p.toUpperCase());
    Message request =
        message("soup")
            .header(Headers.REPLY_TO, "parley.reply.orders.1")
            .header(Headers.CORRELATION_ID, "rpc-call-17")
            .build();

    pipeline
        .onDelivery(new Delivery(request, new Destination.Queue("kitchen"), 1))
        .toCompletableFuture()
        .join();

    assertThat(transport.sends.get(0).message().headers())
        .containsEntry(Headers.CORRELATION_ID, "rpc-call-17");
  }

  @Test
  void unencodableReplyIsDeadLetteredNotRedelivered() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    Codec picky =
        new TextCodec() {
          @Override
          public boolean supports(Class<?> type) {
            return type == String.class;
          }
        };
    Pipe pipeline =
        pipe(
            new ConsumerPipeline<String, Object>(
                commands,
                "kitchen",
                ConsumerPipeline.Invoker.blocking((p, ctx) -> 42),
                SubscriptionOptions.defaults(),
                List.of(),
                List.of(),
                transport,
                Codecs.of(picky),
                clock,
                counters,
                SCHEDULER,
                Runnable::run,
                ReplyTargets.defaults(transport)));
    Message request = message("soup").header(Headers.REPLY_TO, "parley.reply.orders.1").build();

    pipeline
        .onDelivery(new Delivery(request, new Destination.Queue("kitchen"), 1))
        .toCompletableFuture()
        .join();

    assertThat(transport.sends)
        .extracting(s -> s.destination().channel())
        .containsExactly("parley.reply.orders.1", "kitchen.dlq");
    assertThat(transport.sends.get(0).message().headers())
        .containsEntry(Headers.ERROR_CODE, CodecException.UNENCODABLE);
    assertThat(transport.sends.get(1).options().persistent()).isTrue(); // the dead letter is kept
    assertThat(counters.deadLettered.sum()).isEqualTo(1);
  }

  /** Not retried either: a retry would run the handler, and its effects, again. */
  @Test
  void aReplyCodecThatThrowsSomethingElseIsUnencodableAndTheHandlerRunsOnce() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    Codec broken =
        new TextCodec() {
          @Override
          public byte[] encode(Object value) {
            throw new IllegalStateException("codec bug");
          }
        };
    List<String> handled = new ArrayList<>();
    Pipe pipeline =
        pipe(
            new ConsumerPipeline<String, Object>(
                commands,
                "kitchen",
                ConsumerPipeline.Invoker.blocking(
                    (p, ctx) -> {
                      handled.add(p);
                      return "done";
                    }),
                SubscriptionOptions.defaults(),
                List.of(),
                List.of(),
                transport,
                Codecs.of(broken),
                clock,
                counters,
                SCHEDULER,
                Runnable::run,
                ReplyTargets.defaults(transport)));
    Message request = message("soup").header(Headers.REPLY_TO, "parley.reply.orders.1").build();

    pipeline
        .onDelivery(new Delivery(request, new Destination.Queue("kitchen"), 1))
        .toCompletableFuture()
        .join();

    assertThat(handled).containsExactly("soup");
    assertThat(transport.sends)
        .extracting(s -> s.destination().channel())
        .containsExactly("parley.reply.orders.1", "kitchen.dlq");
    assertThat(transport.sends.get(1).message().headers())
        .containsEntry(Headers.ERROR_CODE, CodecException.UNENCODABLE)
        .containsEntry(Headers.ATTEMPT, "1");
  }

  @Test
  void failsTheDeliveryWhenTheDeadLetterCannotBeSentSoTheBrokerRedelivers() {
    transport.failSends = true;
    Pipe pipeline = pipeline(EVENTS, Redelivery.none(), alwaysFailing());

    CompletableFuture<Object> outcome =
        pipeline.onDelivery(delivery(message("x").build())).toCompletableFuture();

    assertThat(outcome).isCompletedExceptionally();
    assertThat(counters.deadLettered.sum()).isZero();
  }

  /**
   * A reply that fails because the request's connection or consumer is gone (the transport closed
   * under a responder) leaves the request to the broker, which delivers it again: no failure reply,
   * no dead letter (it would be a copy of a message that did nothing wrong), no "dead-lettered"
   * warning. Until December 2026 this was handled as a failure of the request and dead-lettered (a
   * close-while-busy run logged it for every request in flight).
   */
  @Test
  void aReplyLostWithItsConnectionLeavesTheRequestToTheBroker() {
    Channel<String> commands = Channel.command("kitchen", String.class);
    transport.failSends = true;
    java.util.concurrent.atomic.AtomicBoolean gone =
        new java.util.concurrent.atomic.AtomicBoolean();
    Pipe pipeline =
        pipeline(
            commands,
            Redelivery.none(),
            Policy.none(),
            (p, ctx) -> {
              gone.set(true); // the connection drops while the handler runs
              return "done";
            },
            withdrawnWhen(gone));
    Message request = message("soup").header(Headers.REPLY_TO, "parley.reply.orders.1").build();

    CompletableFuture<Object> outcome =
        pipeline
            .onDelivery(new Delivery(request, new Destination.Queue("kitchen"), 1))
            .toCompletableFuture();

    assertThat(outcome)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withCauseInstanceOf(TransportException.class);
    assertThat(transport.attempted).as("the reply only: no failure reply, no dead letter").isOne();
    assertThat(counters.deadLettered.sum()).isZero();
    assertThat(counters.handled.sum()).isOne();
  }

  // ---- fixtures ----

  /** Runs one delivery through a pipeline, as the dispatcher does. */
  @FunctionalInterface
  interface Pipe {
    java.util.concurrent.CompletionStage<Object> onDelivery(Delivery delivery);
  }

  private static final java.util.concurrent.ScheduledExecutorService SCHEDULER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "test-retries");
            t.setDaemon(true);
            return t;
          });

  /** A settlement that records nothing and is never withdrawn. */
  private static final dev.parley.transport.spi.Settlement UNSETTLED =
      withdrawnWhen(new java.util.concurrent.atomic.AtomicBoolean());

  /** A delivery its transport takes back (its connection or consumer gone) once {@code gone}. */
  private static dev.parley.transport.spi.Settlement withdrawnWhen(
      java.util.concurrent.atomic.AtomicBoolean gone) {
    return new dev.parley.transport.spi.Settlement() {
      @Override
      public void ack() {}

      @Override
      public void requeue() {}

      @Override
      public void reject() {}

      @Override
      public boolean isWithdrawn() {
        return gone.get();
      }
    };
  }

  private static Pipe pipe(ConsumerPipeline<?, ?> pipeline) {
    return d -> pipeline.process(d, UNSETTLED);
  }

  private <T> Pipe pipeline(
      Channel<T> channel, Redelivery redelivery, CommandHandler<T, Object> handler) {
    return pipeline(channel, redelivery, Policy.none(), handler);
  }

  private <T> Pipe pipeline(
      Channel<T> channel, Redelivery redelivery, Policy policy, CommandHandler<T, Object> handler) {
    return pipeline(channel, redelivery, policy, handler, UNSETTLED);
  }

  /** A pipeline whose deliveries are settled through {@code settlement}. */
  private <T> Pipe pipeline(
      Channel<T> channel,
      Redelivery redelivery,
      Policy policy,
      CommandHandler<T, Object> handler,
      dev.parley.transport.spi.Settlement settlement) {
    ConsumerPipeline<T, Object> pipeline =
        chain(
            channel,
            "billing",
            handler,
            new SubscriptionOptions(1, 10, redelivery, policy),
            List.of());
    return d -> pipeline.process(d, settlement);
  }

  /**
   * A chain with a blocking handler, the text codec, the recording transport and fake clock, its
   * retries scheduled on {@link #SCHEDULER} and run on the scheduling thread.
   */
  private <T> ConsumerPipeline<T, Object> chain(
      Channel<T> channel,
      String group,
      CommandHandler<T, Object> handler,
      SubscriptionOptions options,
      List<DeliveryInterceptor> interceptors) {
    return new ConsumerPipeline<>(
        channel,
        group,
        ConsumerPipeline.Invoker.blocking(handler),
        options,
        interceptors,
        options.attemptInterceptors(),
        transport,
        Codecs.of(new TextCodec()),
        clock,
        counters,
        SCHEDULER,
        Runnable::run,
        ReplyTargets.defaults(transport));
  }

  private CommandHandler<String, Object> alwaysFailing() {
    return (p, ctx) -> {
      attempts.add(ctx.attempt());
      throw new IllegalStateException("boom");
    };
  }

  private static Object fail(String why) {
    throw new AssertionError(why);
  }

  private static Message.Builder message(String text) {
    return Message.builder()
        .header(Headers.CONTENT_TYPE, "text/plain")
        .payload(text.getBytes(StandardCharsets.UTF_8));
  }

  private static Delivery delivery(Message message) {
    return new Delivery(message, SOURCE, 1);
  }

  record Sent(Destination destination, Message message, SendOptions options) {}

  static final class RecordingTransport implements Transport {
    final List<Sent> sends = new ArrayList<>();
    boolean failSends;
    int attempted;

    @Override
    public String name() {
      return "recording";
    }

    /** As RabbitMQ's server-named queues: the broker's own reply mechanism. */
    @Override
    public boolean isNativeReplyAddress(String queue) {
      return queue.startsWith("amq.gen-");
    }

    @Override
    public CompletableFuture<Void> send(
        Destination destination, Message message, SendOptions options) {
      attempted++;
      if (failSends) {
        return CompletableFuture.failedFuture(
            new TransportException("test.down", "broker down", null));
      }
      sends.add(new Sent(destination, message, options));
      return CompletableFuture.completedFuture(null);
    }

    /** The handler of the last subscription made on it. */
    volatile DeliveryHandler subscribed;

    @Override
    public TransportSubscription subscribe(
        Destination source, ConsumerSettings settings, DeliveryHandler handler) {
      subscribed = handler;
      return () -> {};
    }

    @Override
    public void close() {}
  }

  static class TextCodec implements Codec {
    @Override
    public String contentType() {
      return "text/plain";
    }

    @Override
    public byte[] encode(Object value) {
      return String.valueOf(value).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public <T> T decode(byte[] bytes, Class<T> type) {
      return type.cast(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  static final class FakeClock extends Clock {
    private long millis;

    FakeClock(long millis) {
      this.millis = millis;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }
}
