package dev.parley.messaging;

import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.Status;
import dev.parley.internal.DeadlineTimer;
import dev.parley.internal.Payloads;
import dev.parley.internal.Randoms;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Settlement;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Correlates replies arriving on this instance's reply channel with pending requests, and fails
 * requests whose deadline passes. A reply with no pending request (late, or for another instance)
 * is dropped and counted. Thread-safe.
 */
final class ReplyRouter implements DeliveryHandler {

  private static final Logger log = LoggerFactory.getLogger(ReplyRouter.class);
  private static final LogLimiter FORGED = LogLimiter.of(10, 10);
  private static final Randoms.Buffered TOKENS = new Randoms.Buffered();

  private final Map<String, Pending<?>> pending = new ConcurrentHashMap<>();
  private final Codecs codecs;
  private final Counters counters;
  private final LongSupplier nanoTime;

  ReplyRouter(Codecs codecs, Counters counters) {
    this(codecs, counters, System::nanoTime);
  }

  /** With the clock that says whether a reply came after its request's deadline (tests). */
  ReplyRouter(Codecs codecs, Counters counters, LongSupplier nanoTime) {
    this.codecs = codecs;
    this.counters = counters;
    this.nanoTime = nanoTime;
  }

  /**
   * Registers a request; its future fails when {@code timeoutMillis} pass without a reply (up to
   * one {@link DeadlineTimer} tick later). The reply that answers it carries, as its correlation
   * id, the request's id and the request's {@code token} as its reply token — or, on a channel with
   * replies by correlation id, the token itself (a secret made for this request, sent as the
   * request's correlation id) and nothing more ({@link #key}). A reply without a content type is
   * read as the {@code channel} says (its default, if any). The timeout goes on the shared ticking
   * timer, not on a scheduled executor: scheduling and cancelling there wake its thread on every
   * request. A reply arriving after the deadline fails the request all the same, also when the
   * timer has not run yet (a tick late, or its thread waiting for a CPU on a busy machine).
   */
  <R> CompletableFuture<R> register(
      String requestId, String token, Class<R> replyType, Channel<?> channel, long timeoutMillis) {
    String key = key(channel, requestId, token);
    CompletableFuture<R> future = new CompletableFuture<>();
    long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    Pending<R> entry =
        new Pending<>(
            future,
            requestId,
            channel.repliesByCorrelationId() ? null : token,
            replyType,
            channel,
            timeoutMillis,
            nanoTime.getAsLong() + timeoutNanos);
    pending.put(key, entry);
    entry.timeout =
        DeadlineTimer.SHARED.schedule(
            () -> {
              if (pending.remove(key, entry)) {
                expire(entry);
              }
            },
            timeoutNanos);
    return future;
  }

  private static void expire(Pending<?> entry) {
    entry.future.completeExceptionally(
        new DeadlineExceededException(
            "no reply to request " + entry.requestId + " within " + entry.timeoutMillis + " ms"));
  }

  /** The correlation id the reply to a request on {@code channel} carries. */
  static String key(Channel<?> channel, String requestId, String token) {
    return channel.repliesByCorrelationId() ? token : requestId;
  }

  /** Fails a request whose send failed; {@code key} as {@link #key} gives it. */
  void fail(String key, Throwable cause) {
    Pending<?> entry = pending.remove(key);
    if (entry != null) {
      entry.cancelTimeout();
      entry.future.completeExceptionally(cause);
    }
  }

  /** Fails every pending request, on close. */
  void failAll(RuntimeException cause) {
    for (String id : pending.keySet()) {
      fail(id, cause);
    }
  }

  int size() {
    return pending.size();
  }

  /**
   * Completes the request a reply answers, on the transport's dispatch thread (no further
   * hand-off), and acknowledges the reply at once: replies are transient and settled whatever
   * became of them.
   */
  @Override
  public void onDelivery(Delivery delivery, Settlement settlement) {
    try {
      route(delivery);
    } finally {
      settlement.ack();
    }
  }

  /**
   * A reply the transport dropped, too large for it to read: the call it answers fails at once with
   * why ({@link Delivery#unreadable()}, {@code parley.message.too_large}: not retryable, a retry
   * would bring the same reply), when the reply carries that call's token — a forged one changes
   * nothing, as in {@link #onDelivery}.
   */
  @Override
  public void onDropped(Delivery delivery) {
    route(delivery, delivery.unreadable());
  }

  private void route(Delivery delivery) {
    route(delivery, null);
  }

  /** Completes the call {@code delivery} answers, or fails it with {@code failure} when given. */
  private void route(Delivery delivery, BadInputException failure) {
    Message reply = delivery.message();
    String correlationId = reply.headers().get(Headers.CORRELATION_ID);
    Pending<?> entry = correlationId == null ? null : pending.get(correlationId);
    if (entry == null) {
      counters.lateReplies.increment();
      log.debug("reply {} to {} matches no pending request; dropped", reply.id(), correlationId);
      return;
    }
    if (!entry.isAnsweredBy(reply.headers().get(Headers.REPLY_TOKEN))) {
      // Not from whoever received the request: the request keeps waiting for the real reply.
      counters.forgedReplies.increment();
      FORGED.warn(
          log,
          "reply {} to request {} lacks the request's reply token; dropped",
          reply.id(),
          correlationId);
      return;
    }
    if (!pending.remove(correlationId, entry)) {
      counters.lateReplies.increment();
      return;
    }
    entry.cancelTimeout();
    if (nanoTime.getAsLong() - entry.dueNanos >= 0) {
      // Past its deadline: late, as if the timer had failed the request first.
      counters.lateReplies.increment();
      expire(entry);
      return;
    }
    if (failure != null) {
      entry.future.completeExceptionally(failure);
      return;
    }
    entry.complete(reply, codecs);
  }

  /** A new reply token: 128 random bits, URL-safe Base64. */
  static String newToken() {
    byte[] bytes = new byte[16];
    TOKENS.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static final class Pending<R> {
    final CompletableFuture<R> future;
    final String requestId;
    final byte[] token;
    final Class<R> replyType;
    final Channel<?> channel;
    final long timeoutMillis;
    final long dueNanos;
    volatile DeadlineTimer.Task timeout;

    Pending(
        CompletableFuture<R> future,
        String requestId,
        String token,
        Class<R> replyType,
        Channel<?> channel,
        long timeoutMillis,
        long dueNanos) {
      this.future = future;
      this.requestId = requestId;
      this.token = token == null ? null : token.getBytes(StandardCharsets.US_ASCII);
      this.replyType = replyType;
      this.channel = channel;
      this.timeoutMillis = timeoutMillis;
      this.dueNanos = dueNanos;
    }

    /**
     * Compared in constant time: the time taken says nothing about the token. Without a token the
     * correlation id that found this entry was the secret.
     */
    boolean isAnsweredBy(String replyToken) {
      return token == null
          || replyToken != null
              && MessageDigest.isEqual(token, replyToken.getBytes(StandardCharsets.US_ASCII));
    }

    void cancelTimeout() {
      DeadlineTimer.Task t = timeout;
      if (t != null) {
        t.cancel();
      }
    }

    void complete(Message reply, Codecs codecs) {
      Code code = Code.parse(reply.headers().getOrDefault(Headers.STATUS, Code.OK.name()));
      if (code != Code.OK) {
        future.completeExceptionally(
            new Status(
                    code,
                    reply.headers().getOrDefault(Headers.ERROR_CODE, "parley.remote.failed"),
                    reply.headers().getOrDefault(Headers.ERROR_MESSAGE, ""),
                    Map.of())
                .asException());
        return;
      }
      try {
        future.complete(
            codecs
                .decoderFor(
                    channel.contentTypeOr(reply.headers().get(Headers.CONTENT_TYPE)), replyType)
                .decode(Payloads.shared(reply), replyType));
      } catch (BadInputException e) {
        future.completeExceptionally(e);
      }
    }
  }
}
