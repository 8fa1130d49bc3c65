package dev.parley.messaging;

import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.policy.Deadline;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.DeadLetters;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Settlement;
import dev.parley.transport.spi.Transport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chain every delivery of one subscription runs through, the same for every transport: the
 * user's {@link DeliveryInterceptor}s, then {@code deadline → decode → retry → reply → policy →
 * handler} ({@link #describe()}). {@link #process} returns a stage that completes normally once the
 * message is dealt with (handled, redelivered through the broker, dead-lettered or dropped as
 * expired), so the dispatcher acknowledges it; it fails only when that could not be recorded at the
 * broker, so the message is given back.
 *
 * <p>Nothing here waits on a thread: retries — immediate ones and, on a partitioned channel, the
 * redelivery tiers — are scheduled on {@code scheduler} and run again on {@code executor} (the
 * handler pool, or the scheduler's thread for an asynchronous handler); on a partitioned channel
 * the key's lane stays busy meanwhile, so only that key waits.
 */
final class ConsumerPipeline<T, R> {

  private static final Logger log = LoggerFactory.getLogger(ConsumerPipeline.class);

  private static final Deadline.Scope NO_SCOPE = () -> {};

  /** Dead letters are a sender's doing: a storm of them must not flood the log. */
  private static final LogLimiter DEAD_LETTERS = LogLimiter.of(20, 10);

  private static final LogLimiter ERRORS = LogLimiter.of(20, 10);

  /** How a handler is called: blocking (on the handler pool) or asynchronously. */
  interface Invoker<T, R> {
    CompletionStage<R> invoke(T payload, MessageContext context) throws Exception;

    boolean blocking();

    static <T, R> Invoker<T, R> blocking(CommandHandler<T, R> handler) {
      return new Invoker<>() {
        @Override
        public CompletionStage<R> invoke(T payload, MessageContext context) throws Exception {
          return CompletableFuture.completedFuture(handler.handle(payload, context));
        }

        @Override
        public boolean blocking() {
          return true;
        }
      };
    }

    static <T, R> Invoker<T, R> async(AsyncCommandHandler<T, R> handler) {
      return new Invoker<>() {
        @Override
        public CompletionStage<R> invoke(T payload, MessageContext context) {
          CompletionStage<R> stage = handler.handle(payload, context);
          if (stage == null) {
            throw new IllegalStateException("the asynchronous handler returned no stage");
          }
          return stage;
        }

        @Override
        public boolean blocking() {
          return false;
        }
      };
    }
  }

  /** One link of the chain and its name. */
  private final class Named {
    private final String name;
    private final Function<Invocation, CompletionStage<Object>> step;

    Named(String name, Function<Invocation, CompletionStage<Object>> step) {
      this.name = name;
      this.step = step;
    }

    String name() {
      return name;
    }

    Function<Invocation, CompletionStage<Object>> step() {
      return step;
    }
  }

  private final ReplyTargets replyTargets;
  private final Channel<T> channel;
  private final String group;
  private final Invoker<T, R> handler;
  private final Redelivery redelivery;
  private final Policy policy;
  private final Transport transport;
  private final Codecs codecs;
  private final Clock clock;
  private final Counters counters;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;
  private final List<Named> steps = new ArrayList<>();
  private final Deduplication inbox;

  ConsumerPipeline(
      Channel<T> channel,
      String group,
      Invoker<T, R> handler,
      SubscriptionOptions options,
      List<DeliveryInterceptor> interceptors,
      List<DeliveryInterceptor> attemptInterceptors,
      Transport transport,
      Codecs codecs,
      Clock clock,
      Counters counters,
      ScheduledExecutorService scheduler,
      Executor executor,
      ReplyTargets replyTargets) {
    this.replyTargets = replyTargets;
    this.channel = channel;
    this.group = group;
    this.handler = handler;
    this.policy = options.policy();
    this.redelivery = options.redelivery();
    this.transport = transport;
    this.codecs = codecs;
    this.clock = clock;
    this.counters = counters;
    this.scheduler = scheduler;
    this.executor = executor;
    for (DeliveryInterceptor i : interceptors) {
      steps.add(new Named(i.name(), i::intercept));
    }
    steps.add(new Named("deadline", this::readHeaders));
    steps.add(new Named("decode", this::decode));
    this.inbox = options.inbox();
    if (inbox != null) {
      if (!handler.blocking()) {
        throw new IllegalArgumentException(
            "an inbox check may block: use a blocking handler with SubscriptionOptions.withInbox");
      }
      steps.add(new Named("dedup", this::dedup));
    }
    steps.add(new Named("retry" + describe(redelivery), this::retry));
    for (DeliveryInterceptor i : attemptInterceptors) {
      steps.add(new Named(i.name(), i::intercept)); // inside retry: once per attempt
    }
    steps.add(new Named("reply", this::reply));
    if (policy != Policy.none()) {
      steps.add(new Named("policy(" + policy.name() + ")", this::guard));
    }
    steps.add(new Named(handler.blocking() ? "handler" : "handler(async)", this::invoke));
  }

  /** The chain, outermost first, e.g. {@code deadline → decode → retry[…] → reply → handler}. */
  String describe() {
    StringJoiner chain = new StringJoiner(" → ");
    steps.forEach(s -> chain.add(s.name()));
    return chain.toString();
  }

  private static String describe(Redelivery r) {
    return "[immediate " + r.immediateAttempts() + ", tiers " + r.delays() + "]";
  }

  /** Runs one delivery through the chain. */
  CompletionStage<Object> process(Delivery delivery, Settlement settlement) {
    counters.received.increment();
    return new Invocation(delivery, settlement, false).proceed();
  }

  /**
   * Runs a message the transport dead-lettered itself ({@link
   * dev.parley.transport.spi.DeliveryHandler#onDeadLettered}) through the chain, so the
   * interceptors see it as any other dead letter ({@link DeliveryInvocation.Outcome#DEAD_LETTERED}
   * with its {@link Delivery#unreadable() reason}); the deadline step then counts it and answers a
   * request's caller ({@link #deadLetteredByTransport}) instead of sending a dead letter of its
   * own. The message is settled already: a failure here gives nothing back, it is logged.
   */
  void processDeadLettered(Delivery delivery) {
    counters.received.increment();
    new Invocation(delivery, SETTLED, true)
        .proceed()
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                log.debug(
                    "{}: the chain failed on {}, dead-lettered by the transport: {}",
                    channel,
                    delivery.message().id(),
                    e.toString());
              }
            });
  }

  // ---- the steps ------------------------------------------------------------------------------

  /**
   * Every header the pipeline acts on is checked before the handler runs: a message that cannot be
   * answered, timed or counted is bad input, dead-lettered once.
   */
  private CompletionStage<Object> readHeaders(Invocation inv) {
    Delivery delivery = inv.delivery;
    if (inv.byTransport) {
      return done(deadLetteredByTransport(inv));
    }
    if (!delivery.isReadable()) {
      return done(deadLetter(inv, delivery.unreadable(), 1));
    }
    Message message = delivery.message();
    try {
      inv.attempt = parseAttempt(message);
      inv.deadlineMillis = parseDeadline(message);
      inv.replyTo = replyAddress(message);
    } catch (BadInputException e) {
      return done(deadLetter(inv, e, 1));
    }
    if (isExpired(inv.deadlineMillis)) {
      return done(expired(inv));
    }
    return inv.proceed();
  }

  private CompletionStage<Object> decode(Invocation inv) {
    Message message = inv.delivery.message();
    try {
      inv.codec =
          codecs.decoderFor(
              channel.contentTypeOr(message.headers().get(Headers.CONTENT_TYPE)),
              channel.payloadType());
      inv.payload = inv.codec.decode(Payloads.shared(message), channel.payloadType());
    } catch (BadInputException e) {
      return done(deadLetter(inv, e, 1));
    } catch (RuntimeException | StackOverflowError e) {
      // A codec outside its contract (which is to throw CodecException): what it read is the
      // message's bytes alone, so every delivery of it would fail alike — bad input, dead-lettered
      // once, rather than given back to the broker to fail again until its delivery limit.
      return done(deadLetter(inv, codecFailure(CodecException.MALFORMED, inv.codec, e), 1));
    }
    return inv.proceed();
  }

  /** Once per delivery: a message the group has handled already is acknowledged and skipped. */
  private CompletionStage<Object> dedup(Invocation inv) {
    Message message = inv.delivery.message();
    try {
      if (inbox.isDuplicate(group, message)) {
        counters.duplicates.increment();
        inv.fate.outcome = DeliveryInvocation.Outcome.DUPLICATE;
        log.debug("{}/{}: {} was handled already; skipped", channel, group, message.id());
        return CompletableFuture.completedFuture(null);
      }
    } catch (BadInputException e) {
      return done(deadLetter(inv, e, inv.attempt));
    } catch (Exception e) {
      // Only a shortcut: the handler's transaction records the message and decides.
      log.debug("{}/{}: inbox check for {} failed: {}", channel, group, message.id(), e.toString());
    }
    return inv.proceed();
  }

  /** Immediate retries, then the redelivery tiers, then the dead-letter channel. */
  private CompletionStage<Object> retry(Invocation inv) {
    CompletableFuture<Object> result = new CompletableFuture<>();
    attempt(inv, inv.attempt, 0, result);
    return result;
  }

  private void attempt(
      Invocation inv, int attempt, int immediateRetries, CompletableFuture<Object> result) {
    if (inv.settlement.isWithdrawn()) {
      // The subscription is closing (or the connection dropped) while this waited for a retry:
      // the broker has the message again.
      result.completeExceptionally(new IllegalStateException("delivery withdrawn"));
      return;
    }
    if (isExpired(inv.deadlineMillis)) {
      expired(inv);
      result.complete(null);
      return;
    }
    Invocation next = inv.copy();
    next.attempt = attempt;
    CompletionStage<Object> stage = next.proceed();
    stage.whenComplete(
        (value, error) -> {
          if (error == null) {
            if (inv.fate.outcome == null) {
              inv.fate.outcome = DeliveryInvocation.Outcome.HANDLED;
            }
            result.complete(value);
            return;
          }
          Throwable failure = unwrap(error);
          if (failure instanceof TransportException && inv.settlement.isWithdrawn()) {
            // The reply (or a send of the handler's) failed because the delivery's connection or
            // consumer is gone: the broker delivers the message again, so a dead letter or a
            // redelivery sent from here would only be a copy of it, and the message did nothing
            // wrong. Left to the broker.
            log.debug(
                "{}: {} not finished, its delivery withdrawn ({}); the broker delivers it again",
                channel,
                inv.delivery.message().id(),
                failure.toString());
            result.completeExceptionally(failure);
            return;
          }
          if (!isRetryable(failure) || attempt >= redelivery.maxAttempts()) {
            complete(result, deadLetter(inv, failure, attempt));
            return;
          }
          Message message = inv.delivery.message();
          if (attempt < redelivery.immediateAttempts()) {
            log.debug(
                "{} attempt {} of {} failed, retrying", channel, attempt, message.id(), failure);
            later(
                redelivery.backoffBefore(immediateRetries + 1),
                result,
                () -> attempt(inv, attempt + 1, immediateRetries + 1, result));
            return;
          }
          Duration delay = redelivery.delays().get(attempt - redelivery.immediateAttempts());
          if (channel.isPartitioned()) {
            // Order first: this key's later messages must not overtake, so the key's lane waits
            // (other keys go on); the wait is scheduled, no thread sleeps through it.
            later(delay, result, () -> attempt(inv, attempt + 1, immediateRetries, result));
            return;
          }
          complete(result, redeliverLater(inv, failure, attempt + 1, delay));
        });
  }

  /** Runs {@code retry} after {@code delay}, on the handler's executor. */
  private void later(Duration delay, CompletableFuture<Object> result, Runnable retry) {
    Runnable onExecutor =
        () -> {
          try {
            executor.execute(
                () -> {
                  counters.retried.increment();
                  retry.run();
                });
          } catch (RejectedExecutionException e) {
            result.completeExceptionally(e); // closing: the broker gets the message back
          }
        };
    try {
      scheduler.schedule(onExecutor, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(e);
    }
  }

  /** Sends what the handler returned to a requester; the reply's acceptance ends the delivery. */
  private CompletionStage<Object> reply(Invocation inv) {
    return inv.proceed()
        .thenCompose(
            result -> {
              @SuppressWarnings("unchecked")
              R value = (R) result;
              return reply(
                      inv.replyTo,
                      inv.delivery.message(),
                      Status.OK,
                      value,
                      inv.codec,
                      inv.settlement)
                  .thenApply(v -> result);
            });
  }

  /**
   * The consumer's policy around the handler: for a blocking handler its rate limit throttles the
   * handler thread, its bulkhead and breaker refuse ({@link RejectedException}, retried through the
   * tiers); for an asynchronous one the bulkhead and rate limit admit or refuse at once.
   */
  private CompletionStage<Object> guard(Invocation inv) {
    if (!handler.blocking()) {
      Optional<RejectedException> refused = policy.admit();
      if (refused.isPresent()) {
        return CompletableFuture.failedFuture(refused.get());
      }
      return inv.proceed().whenComplete((v, e) -> policy.release());
    }
    try {
      Object value = policy.executeBlocking(inv.currentDeadline(), () -> valueOf(inv.proceed()));
      return CompletableFuture.completedFuture(value);
    } catch (Throwable e) { // an Error the handler threw included (see invoke)
      return CompletableFuture.failedFuture(e);
    }
  }

  private CompletionStage<Object> invoke(Invocation inv) {
    Context context = new Context(inv.delivery.message(), inv.attempt, inv.deadlineMillis, group);
    @SuppressWarnings("unchecked")
    T payload = (T) inv.payload;
    // The message's deadline is current while the handler runs, so the calls it makes (a request,
    // an RPC) inherit what is left of it.
    Deadline current = inv.currentDeadline();
    try (Deadline.Scope scope = current == null ? NO_SCOPE : current.attach()) {
      CompletionStage<R> stage = handler.invoke(payload, context);
      return stage.thenApply(
          r -> {
            counters.handled.increment();
            return (Object) r;
          });
    } catch (Throwable t) {
      // Errors too: a stack that overflowed on this message (a recursive walk of hostile data, a
      // regular expression on a long string) has unwound by now, and an allocation that failed
      // freed what it held. Thrown on, the error would end the thread with the delivery unsettled
      // and its lane (its key on a partitioned channel) held for good; as the delivery's failure it
      // goes through the tiers to the dead-letter queue like any other.
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (t instanceof VirtualMachineError) {
        ERRORS.warn(
            log,
            "{}/{}: the handler threw {} on message {}; failing that delivery",
            channel,
            group,
            t.toString(),
            inv.delivery.message().id());
      }
      return CompletableFuture.failedFuture(t);
    }
  }

  // ---- the invocation -------------------------------------------------------------------------

  /** One delivery at one position of the chain; {@link #proceed()} runs the next step. */
  private final class Invocation implements DeliveryInvocation {
    final Delivery delivery;
    final Settlement settlement;

    /** A message the transport dead-lettered itself ({@link #processDeadLettered}). */
    final boolean byTransport;

    /** What became of the delivery: one for every copy of this invocation. */
    final Fate fate;

    int index;
    int attempt = 1;
    Long deadlineMillis;
    Destination.Queue replyTo;
    Object payload;
    Codec codec;

    Invocation(Delivery delivery, Settlement settlement, boolean byTransport) {
      this(delivery, settlement, byTransport, new Fate());
    }

    private Invocation(Delivery delivery, Settlement settlement, boolean byTransport, Fate fate) {
      this.delivery = delivery;
      this.settlement = settlement;
      this.byTransport = byTransport;
      this.fate = fate;
    }

    Invocation copy() {
      Invocation c = new Invocation(delivery, settlement, byTransport, fate);
      c.index = index;
      c.attempt = attempt;
      c.deadlineMillis = deadlineMillis;
      c.replyTo = replyTo;
      c.payload = payload;
      c.codec = codec;
      return c;
    }

    Deadline currentDeadline() {
      return deadlineMillis == null
          ? null
          : Deadline.after(Duration.ofMillis(deadlineMillis - clock.millis()));
    }

    @Override
    public CompletionStage<Object> proceed() {
      if (index >= steps.size()) {
        return CompletableFuture.failedFuture(
            new IllegalStateException("proceed() called past the end of the chain"));
      }
      Function<Invocation, CompletionStage<Object>> step = steps.get(index).step();
      // The step gets its own copy, positioned after itself, to change and pass on.
      Invocation next = copy();
      next.index = index + 1;
      try {
        CompletionStage<Object> stage = step.apply(next);
        return stage == null
            ? CompletableFuture.failedFuture(
                new IllegalStateException(steps.get(index).name() + " returned no stage"))
            : stage;
      } catch (Throwable e) { // an interceptor's Error too: the delivery fails, its lane goes on
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public Message message() {
      return delivery.message();
    }

    @Override
    public Destination source() {
      return delivery.source();
    }

    @Override
    public String channel() {
      return channel.name();
    }

    @Override
    public String group() {
      return group;
    }

    @Override
    public int deliveryCount() {
      return delivery.deliveryCount();
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public Optional<Instant> deadline() {
      return Optional.ofNullable(deadlineMillis).map(Instant::ofEpochMilli);
    }

    @Override
    public Optional<Object> payload() {
      return Optional.ofNullable(payload);
    }

    @Override
    public Optional<Outcome> outcome() {
      return Optional.ofNullable(fate.outcome);
    }

    @Override
    public Optional<Throwable> failure() {
      return Optional.ofNullable(fate.failure);
    }
  }

  /**
   * What the chain did with one delivery ({@link DeliveryInvocation#outcome()}), written by the
   * step that did it before the stage it returns completes, read by the interceptors around it
   * after.
   */
  private static final class Fate {
    volatile DeliveryInvocation.Outcome outcome;
    volatile Throwable failure;

    void settle(DeliveryInvocation.Outcome outcome, Throwable failure) {
      this.failure = failure;
      this.outcome = outcome;
    }
  }

  /** The settlement of a message the transport has settled itself: there is nothing to do. */
  private static final Settlement SETTLED =
      new Settlement() {
        @Override
        public void ack() {}

        @Override
        public void requeue() {}

        @Override
        public void reject() {}
      };

  private static CompletionStage<Object> done(CompletionStage<Void> stage) {
    return stage.thenApply(v -> null);
  }

  private static void complete(CompletableFuture<Object> result, CompletionStage<Void> stage) {
    stage.whenComplete(
        (v, e) -> {
          if (e == null) {
            result.complete(null);
          } else {
            result.completeExceptionally(e);
          }
        });
  }

  /**
   * The value of a stage a blocking handler completed before returning, or its failure thrown (for
   * the blocking policy, which records what the call threw). Never waits.
   */
  private static Object valueOf(CompletionStage<Object> stage) throws Exception {
    CompletableFuture<Object> done = stage.toCompletableFuture();
    if (!done.isDone()) {
      throw new IllegalStateException("a blocking handler's stage is complete when it returns");
    }
    if (!done.isCompletedExceptionally()) {
      return done.getNow(null);
    }
    Throwable cause = done.handle((v, e) -> unwrap(e)).getNow(null);
    if (cause instanceof Exception ex) {
      throw ex;
    }
    if (cause instanceof Error err) {
      throw err;
    }
    throw new IllegalStateException(cause);
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private CompletionStage<Void> redeliverLater(
      Invocation inv, Throwable failure, int nextAttempt, Duration delay) {
    Delivery delivery = inv.delivery;
    Message message = delivery.message();
    Message.Builder copy =
        message.toBuilder().header(Headers.ATTEMPT, Integer.toString(nextAttempt));
    if (message.header(Headers.FIRST_FAILURE_TIME).isEmpty()) {
      copy.header(Headers.FIRST_FAILURE_TIME, Long.toString(clock.millis()));
    }
    log.debug(
        "{}: redelivering {} as attempt {} in {}: {}",
        channel,
        message.id(),
        nextAttempt,
        delay,
        truncate(String.valueOf(failure)));
    return send(delivery.source(), copy.build(), SendOptions.delayed(delay))
        .thenRun(
            () -> {
              counters.redelivered.increment();
              inv.fate.settle(DeliveryInvocation.Outcome.REDELIVERED, failure);
            });
  }

  /**
   * Sends a failed message to the dead-letter channel, after a failure reply when the message is a
   * request with a usable reply address. Nothing here runs user code, and nothing a sender put in
   * the message can make it throw: the stage fails only when the broker did not take the dead
   * letter (the transport then gives the message back, to be dead-lettered on its next delivery).
   */
  private CompletionStage<Void> deadLetter(Invocation inv, Throwable failure, int attempt) {
    Delivery delivery = inv.delivery;
    Message message = delivery.message();
    Status status = statusOf(failure);
    Message dead =
        DeadLetters.of(
            message,
            status.errorCode(),
            truncate(status.message()),
            failure.getClass().getName(),
            channel.name(),
            originalQueue(delivery.source()),
            attempt,
            clock.millis());
    DEAD_LETTERS.warn(
        log,
        "{}: message {} dead-lettered after {} attempt(s): {} {}",
        channel,
        message.id(),
        attempt,
        status.errorCode(),
        truncate(status.message()));
    Destination.Queue replyTo = replyAddressOrNull(message);
    CompletionStage<Void> reply =
        replyTo == null
            ? CompletableFuture.completedFuture(null)
            : reply(replyTo, message, remoteStatus(failure), null, null, null)
                .exceptionally(
                    e -> {
                      // The caller misses a fast failure and times out; the dead letter matters.
                      log.debug("{}: failure reply for {} not sent", channel, message.id(), e);
                      return null;
                    });
    Message deadLetter = dead;
    return reply
        .thenCompose(v -> send(delivery.source().deadLetter(), deadLetter, SendOptions.NONE))
        .thenRun(
            () -> {
              counters.deadLettered.increment();
              inv.fate.settle(DeliveryInvocation.Outcome.DEAD_LETTERED, failure);
            });
  }

  /**
   * The deadline step's part for a message the transport dead-lettered itself, without handing it
   * over (too large for it to read; {@link #processDeadLettered}): counted as dead-lettered, and a
   * request's caller gets the failure reply any dead letter's caller gets, rather than waiting for
   * its deadline. The transport logged it and moved it; nothing is sent to a dead-letter queue.
   */
  private CompletionStage<Void> deadLetteredByTransport(Invocation inv) {
    Delivery delivery = inv.delivery;
    Throwable failure =
        delivery.unreadable() != null
            ? delivery.unreadable()
            : new BadInputException(DeadLetters.TOO_LARGE, "dead-lettered by the transport");
    counters.deadLettered.increment();
    inv.fate.settle(DeliveryInvocation.Outcome.DEAD_LETTERED, failure);
    Message message = delivery.message();
    Destination.Queue replyTo = replyAddressOrNull(message);
    if (replyTo == null) {
      return CompletableFuture.completedFuture(null);
    }
    return reply(replyTo, message, remoteStatus(failure), null, null, null)
        .exceptionally(
            e -> {
              log.debug("{}: failure reply for {} not sent", channel, message.id(), e);
              return null;
            });
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
      Destination.Queue replyTo,
      Message request,
      Status status,
      R result,
      Codec codec,
      Settlement settlement) {
    if (replyTo == null) {
      return CompletableFuture.completedFuture(null);
    }
    if (replyTargets.isNative(replyTo.name()) && isExpired(deadlineOf(request))) {
      // The broker's own reply address of a caller that has given up: a JMS temporary queue may be
      // gone, and Artemis would make a durable queue of its name to hold the reply; RabbitMQ drops
      // it anyway. A Parley caller's reply queue still gets a late reply (counted there as late).
      log.debug("{}: no reply to {} after the deadline of {}", channel, replyTo, request.id());
      return CompletableFuture.completedFuture(null);
    }
    // A reply carries what its caller reads (wire.md section 1): the correlation id, the token
    // and the content type, or the status and the error. The broker parses every header of every
    // message (on STOMP about 3.5 us of its CPU each), so the request's id is not repeated as a
    // causation id, neither the responder's name nor the result's class travel, and a success
    // carries no status (a reply without one is OK).
    //
    // The reply's correlation id is the request's own correlation id when it carries one, else the
    // request's id: the request/reply convention of AMQP 0-9-1 clients (RabbitMQ's RPC tutorial,
    // Spring AMQP's AsyncRabbitTemplate) and of JMS (the correlation-id pattern), which match a
    // reply by the correlation id they set; Spring's listener adapters answer the same way. A
    // Parley caller sets none and matches by its request's id (wire.md section 3), but on a channel
    // with replies by correlation id, whose requests carry one made for each.
    Message.Builder reply =
        Message.builder()
            .header(
                Headers.CORRELATION_ID,
                request.headers().getOrDefault(Headers.CORRELATION_ID, request.id()));
    request
        .header(Headers.REPLY_TOKEN)
        .ifPresent(token -> reply.header(Headers.REPLY_TOKEN, token));
    if (status.isOk()) {
      Codec replyCodec =
          codec != null && (result == null || codec.supports(result.getClass()))
              ? codec
              : codecs.encoderFor(result == null ? Object.class : result.getClass());
      byte[] encoded;
      try {
        encoded = replyCodec.encode(result);
      } catch (CodecException e) {
        throw e;
      } catch (RuntimeException | StackOverflowError e) {
        // as in decode: not retried, for a retry would run the handler (and its effects) again
        throw codecFailure(CodecException.UNENCODABLE, replyCodec, e);
      }
      Payloads.adopt(reply, encoded).header(Headers.CONTENT_TYPE, replyCodec.contentType());
    } else {
      reply
          .header(Headers.STATUS, status.code().name())
          .header(Headers.ERROR_CODE, status.errorCode())
          .header(Headers.ERROR_MESSAGE, truncate(status.message()));
    }
    // No deadline on the reply: a late reply must reach the caller to be counted there. Transient:
    // the caller's reply queue does not outlive the caller, so writing the reply to disk buys
    // nothing and costs an fsync per request (the request stays unacknowledged until the broker
    // has the reply, as before).
    //
    // Where the transport can send the reply in order with the request's settlement (RabbitMQ: on
    // the channel that delivered the request), the request is settled once the reply is handed
    // over, without a confirm round trip; otherwise once the broker has accepted the reply.
    Message built = reply.build();
    CompletableFuture<Void> sent =
        settlement == null ? null : settlement.replyInOrder(replyTo, built);
    if (sent == null) {
      sent = send(replyTo, built, SendOptions.REPLY);
    }
    return sent.thenRun(counters.sent::increment);
  }

  /** What a codec threw instead of a {@link CodecException}, as one: bad input, never retried. */
  private static CodecException codecFailure(String code, Codec codec, Throwable thrown) {
    return new CodecException(
        code,
        "the "
            + (codec == null ? "" : codec.contentType() + " ")
            + "codec failed: "
            + thrown.getClass().getName(),
        thrown instanceof StackOverflowError ? null : thrown); // its trace: 1,024 frames
  }

  private CompletionStage<Void> expired(Invocation inv) {
    Message message = inv.delivery.message();
    inv.fate.outcome = DeliveryInvocation.Outcome.EXPIRED;
    counters.expired.increment();
    log.debug("{}: message {} expired before it was handled; dropped", channel, message.id());
    return CompletableFuture.completedFuture(null);
  }

  /** {@link #parseDeadline}, or none for a bad one (a failure reply to bad input). */
  private static Long deadlineOf(Message message) {
    try {
      return parseDeadline(message);
    } catch (BadInputException e) {
      return null;
    }
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

  /**
   * An error text for a dead letter's headers or a log line: at most 1,000 characters, with the
   * password of any {@code scheme://user:password@} in it masked (S7: a handler's exception about a
   * broker or database URI must not carry its credentials into a dead-letter queue).
   */
  private static String truncate(String text) {
    return dev.parley.transport.spi.Redaction.excerpt(text, 1000);
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

  /**
   * The reply address of a request, null for a message that asks for no reply.
   *
   * @throws BadInputException when it is no queue name, or one replies may not go to ({@link
   *     ReplyTargets}): the request is dead-lettered and never answered there
   */
  private Destination.Queue replyAddress(Message message) {
    String value = message.headers().get(Headers.REPLY_TO);
    if (value == null) {
      return null;
    }
    Destination.Queue queue;
    try {
      queue = new Destination.Queue(value);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          "parley.header.invalid_reply_to",
          Headers.REPLY_TO + ": not a queue name (expected: non-blank, no whitespace, no '::')");
    }
    if (!replyTargets.allows(queue.name())) {
      throw new BadInputException(
          ReplyTargets.NOT_ALLOWED,
          Headers.REPLY_TO
              + ": not a reply destination this service answers (allowed: "
              + replyTargets.describe()
              + " and the broker's own reply queues)");
    }
    return queue;
  }

  private Destination.Queue replyAddressOrNull(Message message) {
    try {
      return replyAddress(message);
    } catch (BadInputException e) {
      return null;
    }
  }

  private static final class Context implements MessageContext {
    private final Message message;
    private final int attempt;
    private final Long deadline;
    private final String group;

    Context(Message message, int attempt, Long deadline, String group) {
      this.message = message;
      this.attempt = attempt;
      this.deadline = deadline;
      this.group = group;
    }

    @Override
    public String group() {
      return group;
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
