package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.DeadlineExceededException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.DeadLetters;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReplyRouterTest {

  private static final Destination REPLIES = new Destination.Queue("parley.reply.orders.1");
  private static final Channel<String> PLAIN = Channel.command("kitchen", String.class);
  private static final Channel<String> CORRELATED = PLAIN.withRepliesByCorrelationId();

  /**
   * The router's clock: requests' deadlines pass when a test says so (the timer keeps real time).
   */
  private final AtomicLong now = new AtomicLong();

  private final Counters counters = new Counters();
  private final ReplyRouter router =
      new ReplyRouter(Codecs.of(new ConsumerPipelineTest.TextCodec()), counters, now::get);
  private final AtomicInteger acks = new AtomicInteger();

  @Test
  void aReplyInTimeCompletesItsRequest() {
    String token = ReplyRouter.newToken();
    CompletableFuture<String> call = router.register("r-1", token, String.class, PLAIN, 10_000);

    router.onDelivery(reply("r-1", token), settlement());

    assertThat(call).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
    assertThat(counters.lateReplies.sum()).isZero();
    assertThat(router.size()).isZero();
    assertThat(acks).hasValue(1);
  }

  /**
   * The deadline timer fires up to a tick late, and later still when its thread waits for a CPU (a
   * full-size M10 run on 2 vCPUs saw the whole JVM unscheduled for about 100 ms). A reply coming in
   * meanwhile, after the deadline, is late all the same: the call fails with its deadline, as the
   * wire contract says (a late reply is dropped and counted), rather than succeeding after it.
   */
  @Test
  void aReplyAfterTheDeadlineFailsTheRequestAlsoBeforeTheTimerRuns() {
    String token = ReplyRouter.newToken();
    CompletableFuture<String> call = router.register("r-2", token, String.class, PLAIN, 10_000);
    // The deadline passes by this router's clock; the timer (10 s of real time) has not run.
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10_000));

    router.onDelivery(reply("r-2", token), settlement());

    assertThat(call)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(DeadlineExceededException.class)
        .withMessageContaining("within 10000 ms");
    assertThat(counters.lateReplies.sum()).isEqualTo(1);
    assertThat(router.size()).isZero();
    assertThat(acks).hasValue(1);
  }

  @Test
  void aReplyJustBeforeTheDeadlineCompletesItsRequest() {
    String token = ReplyRouter.newToken();
    CompletableFuture<String> call = router.register("r-3", token, String.class, PLAIN, 10_000);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10_000) - 1);

    router.onDelivery(reply("r-3", token), settlement());

    assertThat(call).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
    assertThat(counters.lateReplies.sum()).isZero();
  }

  @Test
  void aReplyWithoutTheTokenIsDroppedAsForgedAndTheRequestKeepsWaiting() {
    String token = ReplyRouter.newToken();
    CompletableFuture<String> call = router.register("r-4", token, String.class, PLAIN, 10_000);

    router.onDelivery(reply("r-4", null), settlement());
    router.onDelivery(reply("r-4", ReplyRouter.newToken()), settlement());

    assertThat(call).isNotDone();
    assertThat(counters.forgedReplies.sum()).isEqualTo(2);
    router.onDelivery(reply("r-4", token), settlement());
    assertThat(call).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
  }

  /**
   * A reply the transport dropped (too large for it) fails its call at once with why — unless it
   * lacks the call's token: a forged one changes nothing, and the real reply still completes it.
   */
  @Test
  void aDroppedReplyFailsItsCallOnlyWithTheToken() {
    String token = ReplyRouter.newToken();
    CompletableFuture<String> call = router.register("r-6", token, String.class, PLAIN, 10_000);
    CompletableFuture<String> other = router.register("r-7", token, String.class, PLAIN, 10_000);
    BadInputException tooLarge =
        new BadInputException(DeadLetters.TOO_LARGE, "a body of 300000 bytes: dropped");

    router.onDropped(dropped(reply("r-6", ReplyRouter.newToken()), tooLarge));
    assertThat(call).isNotDone();
    assertThat(counters.forgedReplies.sum()).isEqualTo(1);

    router.onDropped(dropped(reply("r-6", token), tooLarge));
    assertThat(call)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableOfType(ExecutionException.class)
        .withCause(tooLarge);
    assertThat(router.size()).isEqualTo(1);
    router.onDelivery(reply("r-7", token), settlement());
    assertThat(other).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
  }

  private static Delivery dropped(Delivery reply, BadInputException why) {
    return new Delivery(reply.message(), reply.source(), 1, why);
  }

  /**
   * Channel#withRepliesByCorrelationId: the request's own correlation id is the secret a foreign
   * responder echoes; its reply carries no token, and the request's id is not what finds it.
   */
  @Test
  void aRequestRegisteredByItsCorrelationIdIsAnsweredByThatIdAlone() {
    String correlation = ReplyRouter.newToken();
    CompletableFuture<String> call =
        router.register("r-5", correlation, String.class, CORRELATED, 10_000);

    router.onDelivery(reply("r-5", null), settlement()); // its id: no longer a key
    assertThat(call).isNotDone();
    assertThat(counters.lateReplies.sum()).isEqualTo(1);

    router.onDelivery(reply(correlation, null), settlement());

    assertThat(call).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
    assertThat(counters.forgedReplies.sum()).isZero();
    assertThat(router.size()).isZero();
  }

  @Test
  void aRequestRegisteredByItsCorrelationIdTimesOutNamingItsIdNotTheSecret() {
    String correlation = ReplyRouter.newToken();
    CompletableFuture<String> call =
        router.register("r-6", correlation, String.class, CORRELATED, 1);

    assertThat(call)
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(DeadlineExceededException.class)
        .withMessageContaining("request r-6 ")
        .withMessageNotContaining(correlation);
  }

  @Test
  void aReplyWithoutAContentTypeIsReadAsTheChannelsDefault() {
    Channel<String> lenient = PLAIN.withDefaultContentType("text/plain");
    String token = ReplyRouter.newToken();
    CompletableFuture<String> strict = router.register("r-7", token, String.class, PLAIN, 10_000);
    CompletableFuture<String> read = router.register("r-8", token, String.class, lenient, 10_000);

    router.onDelivery(untyped("r-7", token), settlement());
    router.onDelivery(untyped("r-8", token), settlement());

    assertThat(strict)
        .failsWithin(Duration.ofSeconds(1))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(dev.parley.codec.CodecException.class)
        .withMessageContaining("content-type");
    assertThat(read).succeedsWithin(Duration.ofSeconds(1)).isEqualTo("soup");
  }

  private static Delivery untyped(String correlationId, String token) {
    Message reply =
        Message.builder()
            .header(Headers.CORRELATION_ID, correlationId)
            .header(Headers.REPLY_TOKEN, token)
            .payload("soup".getBytes(StandardCharsets.UTF_8))
            .build();
    return new Delivery(reply, REPLIES, 1);
  }

  private static Delivery reply(String correlationId, String token) {
    Message.Builder b = Message.builder().header(Headers.CORRELATION_ID, correlationId);
    if (token != null) {
      b.header(Headers.REPLY_TOKEN, token);
    }
    Message reply =
        b.header(Headers.CONTENT_TYPE, "text/plain")
            .payload("soup".getBytes(StandardCharsets.UTF_8))
            .build();
    return new Delivery(reply, REPLIES, 1);
  }

  private Settlement settlement() {
    return new Settlement() {
      @Override
      public void ack() {
        acks.incrementAndGet();
      }

      @Override
      public void requeue() {
        throw new AssertionError("a reply is never requeued");
      }

      @Override
      public void reject() {
        throw new AssertionError("a reply is never rejected");
      }
    };
  }
}
