package dev.parley.messaging;

import dev.parley.codec.Codec;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.policy.Deadline;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handler pipeline around every consumer, the same for every transport, in this order: deadline
 * check → decode → retry tiers → handler → reply. A delivery's stage completes normally once the
 * message is dealt with (handled, redelivered through the broker, dead-lettered or dropped as
 * expired), so the transport acknowledges it; it completes exceptionally only when that could not
 * be recorded at the broker, so the transport releases it for redelivery.
 *
 * <p>Runs on the transport's consumer thread; immediate-retry backoff waits on that thread, which
 * keeps one key's messages in order.
 */
final class ConsumerPipeline<T, R> implements DeliveryHandler {

  private static final Logger log = LoggerFactory.getLogger(ConsumerPipeline.class);

  private static final Deadline.Scope NO_SCOPE = () -> {};

  /** Dead letters are a sender's doing: a storm of them must not flood the log. */
  private static final LogLimiter DEAD_LETTERS = LogLimiter.of(20, 10);

  private final String service;
  private final Channel<T> channel;
  private final CommandHandler<T, R> handler;
  private final Redelivery redelivery;
  private final Policy policy;
  private final Transport transport;
  private final Codecs codecs;
  private final Clock clock;
  private final Counters counters;

  ConsumerPipeline(
      String service,
      Channel<T> channel,
      CommandHandler<T, R> handler,
      Redelivery redelivery,
      Policy policy,
      Transport transport,
      Codecs codecs,
      Clock clock,
      Counters counters) {
    this.service = service;
    this.channel = channel;
    this.handler = handler;
    this.policy = policy;
    this.redelivery = redelivery;
    this.transport = transport;
    this.codecs = codecs;
    this.clock = clock;
    this.counters = counters;
  }

  @Override
  public CompletionStage<Void> onDelivery(Delivery delivery) {
    counters.received.increment();
    Message message = delivery.message();
    if (delivery.unreadable() != null) {
      return deadLetter(delivery, delivery.unreadable(), 1);
    }
    int attempt;
    Long deadline;
    Destination.Queue replyTo;
    T payload;
    Codec codec;
    try {
      // Every header the pipeline acts on is checked before the handler runs: a message that
      // cannot be answered, timed or counted is bad input, dead-lettered once.
      attempt = parseAttempt(message);
      deadline = parseDeadline(message);
      replyTo = replyAddress(message);
      if (isExpired(deadline)) {
        return expired(message);
      }
      codec = codecs.decoderFor(message.headers().get(Headers.CONTENT_TYPE), channel.payloadType());
      payload = codec.decode(message.payload(), channel.payloadType());
    } catch (BadInputException e) {
      return deadLetter(delivery, e, 1);
    }
    return handle(delivery, payload, codec, replyTo, attempt, deadline);
  }

  private CompletionStage<Void> handle(
      Delivery delivery,
      T payload,
      Codec codec,
      Destination.Queue replyTo,
      int firstAttempt,
      Long deadline) {
    Message message = delivery.message();
    int attempt = firstAttempt;
    int immediateRetries = 0;
    while (true) {
      if (isExpired(deadline)) {
        return expired(message);
      }
      Context context = new Context(message, attempt, deadline);
      Throwable failure;
      try {
        // The message's deadline is current while the handler runs, so the calls it makes (a
        // request, an RPC) inherit what is left of it.
        Deadline current =
            deadline == null ? null : Deadline.after(Duration.ofMillis(deadline - clock.millis()));
        R result;
        try (Deadline.Scope scope = current == null ? NO_SCOPE : current.attach()) {
          result =
              policy == Policy.none()
                  ? handler.handle(payload, context)
                  : policy.executeBlocking(current, () -> handler.handle(payload, context));
        }
        // Encoding the reply happens here too: a reply no codec can write is a failure of this
        // message (dead-lettered, with a failure reply), not a reason to redeliver it forever.
        CompletionStage<Void> reply = reply(replyTo, message, Status.OK, result, codec);
        counters.handled.increment();
        return reply;
      } catch (Throwable t) {
        if (t instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (t instanceof VirtualMachineError) {
          throw (VirtualMachineError) t;
        }
        failure = t;
      }
      if (!isRetryable(failure) || attempt >= redelivery.maxAttempts()) {
        return deadLetter(delivery, failure, attempt);
      }
      if (attempt < redelivery.immediateAttempts()) {
        immediateRetries++;
        log.debug("{} attempt {} of {} failed, retrying", channel, attempt, message.id(), failure);
        if (!pause(redelivery.backoffBefore(immediateRetries))) {
          return CompletableFuture.failedFuture(failure);
        }
        counters.retried.increment();
        attempt++;
        continue;
      }
      Duration delay = redelivery.delays().get(attempt - redelivery.immediateAttempts());
      if (channel.isPartitioned()) {
        // Order first: later messages of this key must not overtake, so wait in place.
        if (!pause(delay)) {
          return CompletableFuture.failedFuture(failure);
        }
        counters.retried.increment();
        attempt++;
        continue;
      }
      return redeliverLater(delivery, failure, attempt + 1, delay);
    }
  }

  private CompletionStage<Void> redeliverLater(
      Delivery delivery, Throwable failure, int nextAttempt, Duration delay) {
    Message message = delivery.message();
    Message.Builder copy =
        message.toBuilder().header(Headers.ATTEMPT, Integer.toString(nextAttempt));
    if (message.header(Headers.FIRST_FAILURE_TIME).isEmpty()) {
      copy.header(Headers.FIRST_FAILURE_TIME, Long.toString(clock.millis()));
    }
    log.debug(
        "{}: redelivering {} as attempt {} in {}",
        channel,
        message.id(),
        nextAttempt,
        delay,
        failure);
    return transport
        .send(delivery.source(), copy.build(), SendOptions.delayed(delay))
        .thenRun(counters.redelivered::increment);
  }

  /**
   * Sends a failed message to the dead-letter channel, after a failure reply when the message is a
   * request with a usable reply address. Nothing here runs user code, and nothing a sender put in
   * the message can make it throw: the stage fails only when the broker did not take the dead
   * letter (the transport then gives the message back, to be dead-lettered on its next delivery).
   */
  private CompletionStage<Void> deadLetter(Delivery delivery, Throwable failure, int attempt) {
    Message message = delivery.message();
    Status status = statusOf(failure);
    Message dead;
    try {
      // A dead letter waits for an operator: it keeps no deadline (transports map the deadline to
      // the broker's time-to-live, which would drop it from the dead-letter queue).
      dead =
          message.toBuilder()
              .removeHeader(Headers.REPLY_TOKEN)
              .removeHeader(Headers.DEADLINE)
              .header(Headers.ERROR_CODE, status.errorCode())
              .header(Headers.ERROR_MESSAGE, truncate(status.message()))
              .header(Headers.EXCEPTION_CLASS, failure.getClass().getName())
              .header(Headers.ORIGINAL_CHANNEL, channel.name())
              .header(Headers.ORIGINAL_QUEUE, originalQueue(delivery.source()))
              .header(Headers.ATTEMPT, Integer.toString(attempt))
              .header(
                  Headers.FIRST_FAILURE_TIME,
                  message.header(Headers.FIRST_FAILURE_TIME).orElse(Long.toString(clock.millis())))
              .build();
    } catch (RuntimeException e) {
      // The error headers did not fit beside the message's own: keep the payload, the id and
      // Parley's error headers only.
      dead =
          Message.builder()
              .id(message.id())
              .payload(message.payload())
              .header(Headers.ERROR_CODE, status.errorCode())
              .header(Headers.ERROR_MESSAGE, truncate(status.message()))
              .header(Headers.ORIGINAL_CHANNEL, channel.name())
              .header(Headers.ORIGINAL_QUEUE, originalQueue(delivery.source()))
              .header(Headers.ATTEMPT, Integer.toString(attempt))
              .build();
    }
    DEAD_LETTERS.warn(
        log,
        "{}: message {} dead-lettered after {} attempt(s): {} {}",
        channel,
        message.id(),
        attempt,
        status.errorCode(),
        status.message());
    Destination.Queue replyTo = replyAddressOrNull(message);
    CompletionStage<Void> reply =
        replyTo == null
            ? CompletableFuture.completedFuture(null)
            : reply(replyTo, message, remoteStatus(failure), null, null)
                .exceptionally(
                    e -> {
                      // The caller misses a fast failure and times out; the dead letter matters.
                      log.debug("{}: failure reply for {} not sent", channel, message.id(), e);
                      return null;
                    });
    Message deadLetter = dead;
    return reply
        .thenCompose(v -> send(delivery.source().deadLetter(), deadLetter, SendOptions.NONE))
        .thenRun(counters.deadLettered::increment);
  }

  /** A send whose synchronous failures (a closed transport, a refused message) fail the stage. */
  private CompletableFuture<Void> send(Destination to, Message message, SendOptions options) {
    try {
      return transport.send(to, message, options);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Sends the reply to a request; completed at once when the message asked for none. A failure
   * reply carries only what the handler chose to expose ({@link #remoteStatus}).
   */
  private CompletionStage<Void> reply(
      Destination.Queue replyTo, Message request, Status status, R result, Codec codec) {
    if (replyTo == null) {
      return CompletableFuture.completedFuture(null);
    }
    Message.Builder reply =
        Message.builder()
            .header(Headers.CORRELATION_ID, request.id())
            .header(Headers.CAUSATION_ID, request.id())
            .header(Headers.SOURCE, service)
            .header(Headers.STATUS, status.code().name());
    request
        .header(Headers.REPLY_TOKEN)
        .ifPresent(token -> reply.header(Headers.REPLY_TOKEN, token));
    if (status.isOk()) {
      Codec replyCodec =
          codec != null && (result == null || codec.supports(result.getClass()))
              ? codec
              : codecs.encoderFor(result == null ? Object.class : result.getClass());
      reply
          .header(Headers.CONTENT_TYPE, replyCodec.contentType())
          .payload(replyCodec.encode(result));
      if (result != null) {
        reply.header(Headers.TYPE, result.getClass().getSimpleName());
      }
    } else {
      reply
          .header(Headers.ERROR_CODE, status.errorCode())
          .header(Headers.ERROR_MESSAGE, truncate(status.message()));
    }
    // No deadline on the reply: a late reply must reach the caller to be counted there. Transient:
    // the caller's reply queue does not outlive the caller, so writing the reply to disk buys
    // nothing and costs an fsync per request (the request stays unacknowledged until the broker
    // has the reply, as before).
    return send(replyTo, reply.build(), SendOptions.TRANSIENT).thenRun(counters.sent::increment);
  }

  private CompletionStage<Void> expired(Message message) {
    counters.expired.increment();
    log.debug("{}: message {} expired before it was handled; dropped", channel, message.id());
    return CompletableFuture.completedFuture(null);
  }

  private boolean isExpired(Long deadline) {
    return deadline != null && clock.millis() >= deadline;
  }

  private static boolean isRetryable(Throwable failure) {
    if (failure instanceof RejectedException) {
      return true; // refused by the consumer's policy (circuit open, bulkhead full): try later
    }
    if (failure instanceof ParleyException p) {
      return p.isRetryable();
    }
    return true;
  }

  /** The status a dead letter records: for the service's own operators, with the real message. */
  static Status statusOf(Throwable failure) {
    if (failure instanceof ParleyException p) {
      return p.status();
    }
    String message =
        failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
    return Status.of(Code.INTERNAL, "parley.handler.failed", message);
  }

  /**
   * The status a failure reply carries to a remote caller: a {@link ParleyException}'s status,
   * which the handler chose to expose, or the same fixed text REST and gRPC answer; the exception's
   * own message stays in this service (the log and the dead letter).
   */
  static Status remoteStatus(Throwable failure) {
    if (failure instanceof ParleyException p) {
      return p.status();
    }
    return Status.of(Code.INTERNAL, "parley.handler.failed", "the handler failed");
  }

  /** Where a replay sends a dead letter: the source's address on this broker. */
  private String originalQueue(Destination source) {
    try {
      return transport.address(source);
    } catch (RuntimeException e) {
      return source instanceof Destination.GroupQueue g ? g.queueName() : source.channel();
    }
  }

  private static String truncate(String text) {
    return text.length() <= 1000 ? text : text.substring(0, 1000) + "...";
  }

  /**
   * The attempt this delivery is for. The header is a hint that Parley's own redeliveries carry;
   * from outside it cannot skip the tiers: it is clamped to the subscription's last attempt.
   */
  private int parseAttempt(Message message) {
    String value = message.headers().get(Headers.ATTEMPT);
    if (value == null) {
      return 1;
    }
    try {
      int attempt = Integer.parseInt(value);
      if (attempt < 1) {
        throw new NumberFormatException();
      }
      return Math.min(attempt, redelivery.maxAttempts());
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "parley.header.invalid", Headers.ATTEMPT + ": not a positive integer");
    }
  }

  private static Long parseDeadline(Message message) {
    String value = message.headers().get(Headers.DEADLINE);
    if (value == null) {
      return null;
    }
    long deadline;
    try {
      deadline = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "parley.header.invalid", Headers.DEADLINE + ": not epoch milliseconds");
    }
    if (deadline <= 0) {
      throw new BadInputException(
          "parley.header.invalid", Headers.DEADLINE + ": not a positive epoch millisecond");
    }
    return deadline;
  }

  /** The reply address of a request, null for a message that asks for no reply. */
  private static Destination.Queue replyAddress(Message message) {
    String value = message.headers().get(Headers.REPLY_TO);
    if (value == null) {
      return null;
    }
    try {
      return new Destination.Queue(value);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          "parley.header.invalid_reply_to",
          Headers.REPLY_TO + ": not a queue name (expected: non-blank, no whitespace, no '::')");
    }
  }

  private static Destination.Queue replyAddressOrNull(Message message) {
    try {
      return replyAddress(message);
    } catch (BadInputException e) {
      return null;
    }
  }

  /** Waits on the consumer thread; false if interrupted (the subscription is closing). */
  private static boolean pause(Duration duration) {
    try {
      TimeUnit.NANOSECONDS.sleep(duration.toNanos());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static final class Context implements MessageContext {
    private final Message message;
    private final int attempt;
    private final Long deadline;

    Context(Message message, int attempt, Long deadline) {
      this.message = message;
      this.attempt = attempt;
      this.deadline = deadline;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public Optional<Instant> deadline() {
      return Optional.ofNullable(deadline).map(Instant::ofEpochMilli);
    }

    @Override
    public Optional<String> partitionKey() {
      return message.header(Headers.PARTITION_KEY);
    }
  }
}
