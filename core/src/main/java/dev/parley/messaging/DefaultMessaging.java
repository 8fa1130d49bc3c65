package dev.parley.messaging;

import dev.parley.codec.Codec;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.message.MessageIds;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import dev.parley.policy.Policy;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.HandlerThread;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link Messaging} implementation: typed API over the transport and the handler pipeline. */
final class DefaultMessaging implements Messaging {

  private static final Logger log = LoggerFactory.getLogger(DefaultMessaging.class);
  private static final String REPLY_PREFIX = "parley.reply.";

  private final Policy publishPolicy;
  private final String service;
  private final Transport transport;
  private final boolean ownsTransport;
  private final Codecs codecs;
  private final Clock clock;
  private final SubscriptionOptions defaults;
  private final Counters counters = new Counters();
  private final ReplyRouter replies;
  private final String replyQueue;
  private final Set<SubscriptionHandle> subscriptions = ConcurrentHashMap.newKeySet();
  private final Object replyLock = new Object();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile TransportSubscription replySubscription;
  private final List<DeliveryInterceptor> interceptors;
  private final List<DeliveryInterceptor> attemptInterceptors;
  private final List<PublishInterceptor> publishInterceptors;
  private final ReplyTargets replyTargets;

  /** Schedules retries (never runs a handler: it hands each to the subscription's executor). */
  private final ScheduledThreadPoolExecutor retries;

  DefaultMessaging(
      String service,
      Transport transport,
      boolean ownsTransport,
      Codecs codecs,
      Clock clock,
      SubscriptionOptions defaults,
      Policy publishPolicy,
      List<DeliveryInterceptor> interceptors,
      List<DeliveryInterceptor> attemptInterceptors,
      List<PublishInterceptor> publishInterceptors,
      List<String> allowedReplyTo) {
    this.service = service;
    this.replyTargets = new ReplyTargets(transport, allowedReplyTo);
    this.interceptors = interceptors;
    this.attemptInterceptors = attemptInterceptors;
    this.publishInterceptors = publishInterceptors;
    this.retries =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "parley-retries-" + service);
              t.setDaemon(true);
              return t;
            });
    retries.setRemoveOnCancelPolicy(true);
    this.publishPolicy = publishPolicy;
    this.transport = transport;
    this.ownsTransport = ownsTransport;
    this.codecs = codecs;
    this.clock = clock;
    this.defaults = defaults;
    this.replies = new ReplyRouter(codecs, counters);
    this.replyQueue = REPLY_PREFIX + service + "." + MessageIds.next();
  }

  @Override
  public String service() {
    return service;
  }

  @Override
  public <T> CompletableFuture<Message> publish(Channel<T> channel, T event) {
    requireKind(channel, Channel.Kind.EVENT);
    Message message = draft(channel, event).build();
    return sendTracked(new Destination.Event(channel.name()), message);
  }

  @Override
  public <T> Message encode(Channel<T> channel, T payload) {
    Objects.requireNonNull(channel, "channel");
    return draft(channel, payload).build();
  }

  @Override
  public Transport transport() {
    return transport;
  }

  @Override
  public CompletableFuture<Void> forward(Destination destination, Message message) {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(message, "message");
    return sendTracked(destination, message).thenApply(m -> null);
  }

  @Override
  public <T> CompletableFuture<Message> send(Channel<T> channel, T command) {
    requireKind(channel, Channel.Kind.COMMAND);
    Message message = draft(channel, command).build();
    return sendTracked(new Destination.Queue(channel.name()), message);
  }

  @Override
  public <C, R> CompletableFuture<R> request(
      Channel<C> channel, C command, Class<R> replyType, Duration timeout) {
    return request(channel, command, replyType, timeout, null);
  }

  @Override
  public <I, O> CompletableFuture<O> call(
      Operation<I, O> operation, I input, Duration timeout, String authorization) {
    Objects.requireNonNull(authorization, "authorization");
    return request(
        operation.commandChannel(), input, operation.outputType(), timeout, authorization);
  }

  private <C, R> CompletableFuture<R> request(
      Channel<C> channel, C command, Class<R> replyType, Duration timeout, String authorization) {
    requireKind(channel, Channel.Kind.COMMAND);
    Objects.requireNonNull(replyType, "replyType");
    requireDefaultDecodable(channel, replyType);
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    ensureOpen();
    // A request made while handling a call inherits what is left of that call's deadline.
    long timeoutMillis = timeout.toMillis();
    Optional<Deadline> inherited = Deadline.current();
    if (inherited.isPresent()) {
      long left = inherited.get().remainingMillis();
      if (left <= 0) {
        return CompletableFuture.failedFuture(
            new DeadlineExceededException("the caller's deadline passed before the request"));
      }
      timeoutMillis = Math.min(timeoutMillis, left);
    }
    ensureReplyChannel();
    long deadline = clock.millis() + timeoutMillis;
    String token = ReplyRouter.newToken();
    Message.Builder draft =
        draft(channel, command)
            .header(Headers.REPLY_TO, replyQueue)
            // A foreign responder echoes a correlation id, not Parley's token (Channel's javadoc).
            .header(
                channel.repliesByCorrelationId() ? Headers.CORRELATION_ID : Headers.REPLY_TOKEN,
                token)
            .header(Headers.DEADLINE, Long.toString(deadline));
    if (authorization != null) {
      draft.header(Headers.AUTHORIZATION, authorization);
    }
    Message message = draft.build();
    CompletableFuture<R> reply =
        replies.register(message.id(), token, replyType, channel, timeoutMillis);
    String key = ReplyRouter.key(channel, message.id(), token);
    // Confirmed by its reply, not by the broker (SendOptions.REQUEST): the send fails only when the
    // transport cannot write it, and a request the broker lost times out like an unanswered one.
    sendTracked(new Destination.Queue(channel.name()), message, SendOptions.REQUEST)
        .whenComplete(
            (sent, failure) -> {
              if (failure != null) {
                replies.fail(key, unwrap(failure));
              }
            });
    return reply.copy();
  }

  @Override
  public <T> Subscription subscribe(
      Channel<T> channel, String group, MessageHandler<T> handler, SubscriptionOptions options) {
    requireKind(channel, Channel.Kind.EVENT);
    Objects.requireNonNull(handler, "handler");
    CommandHandler<T, Object> asCommand =
        (payload, context) -> {
          handler.handle(payload, context);
          return null;
        };
    return start(
        channel,
        new Destination.GroupQueue(channel.name(), group),
        group,
        ConsumerPipeline.Invoker.blocking(asCommand),
        options);
  }

  @Override
  public <T> Subscription subscribeAsync(
      Channel<T> channel,
      String group,
      AsyncMessageHandler<T> handler,
      SubscriptionOptions options) {
    requireKind(channel, Channel.Kind.EVENT);
    Objects.requireNonNull(handler, "handler");
    AsyncCommandHandler<T, Object> asCommand =
        (payload, context) -> handler.handle(payload, context).thenApply(v -> null);
    return start(
        channel,
        new Destination.GroupQueue(channel.name(), group),
        group,
        ConsumerPipeline.Invoker.async(asCommand),
        options);
  }

  @Override
  public <C, R> Subscription serveAsync(
      Channel<C> channel, AsyncCommandHandler<C, R> handler, SubscriptionOptions options) {
    requireKind(channel, Channel.Kind.COMMAND);
    Objects.requireNonNull(handler, "handler");
    return start(
        channel,
        new Destination.Queue(channel.name()),
        channel.name(),
        ConsumerPipeline.Invoker.async(handler),
        options);
  }

  @Override
  public String describe() {
    StringJoiner publish = new StringJoiner(" → ");
    publishInterceptors.forEach(i -> publish.add(i.name()));
    publish.add("policy(" + publishPolicy.name() + ")").add(transport.name());
    StringJoiner consume = new StringJoiner(" → ");
    interceptors.forEach(i -> consume.add(i.name()));
    consume.add("(the subscription's chain)");
    StringJoiner perAttempt = new StringJoiner(" → ", ", each attempt through ", "");
    perAttempt.setEmptyValue("");
    attemptInterceptors.forEach(i -> perAttempt.add(i.name()));
    return "publish: "
        + publish
        + "; consume: "
        + consume
        + perAttempt
        + "; replies to: "
        + replyTargets.describe()
        + " and the broker's own reply queues";
  }

  @Override
  public <C, R> Subscription serve(
      Channel<C> channel, CommandHandler<C, R> handler, SubscriptionOptions options) {
    requireKind(channel, Channel.Kind.COMMAND);
    Objects.requireNonNull(handler, "handler");
    return start(
        channel,
        new Destination.Queue(channel.name()),
        channel.name(),
        ConsumerPipeline.Invoker.blocking(handler),
        options);
  }

  @Override
  public Subscription subscribeDeadLetters(
      Channel<?> channel, String group, DeadLetterHandler handler) {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(handler, "handler");
    ensureOpen();
    Destination source =
        channel.kind() == Channel.Kind.EVENT
            ? new Destination.GroupQueue(channel.name(), group)
            : new Destination.Queue(channel.name());
    Destination.Queue deadLetters = source.deadLetter();
    ExecutorService executor = handlerPool(deadLetters.name(), 1);
    TransportSubscription subscription =
        transport.subscribe(
            deadLetters,
            new ConsumerSettings(1, defaults.prefetch(), false),
            new Lanes(
                false,
                executor,
                (delivery, settlement) -> {
                  try {
                    handler.handle(delivery.message());
                    return CompletableFuture.completedFuture(null);
                  } catch (Exception e) {
                    return CompletableFuture.failedFuture(e);
                  }
                }));
    SubscriptionHandle handle =
        new SubscriptionHandle(
            deadLetters.name(),
            group,
            subscription,
            executor,
            deadLetters.name() + ": dead letters, 1 lane");
    subscriptions.add(handle);
    return handle;
  }

  /** A channel's default content type must be one a codec reads into {@code type}. */
  private void requireDefaultDecodable(Channel<?> channel, Class<?> type) {
    String contentType = channel.defaultContentType();
    if (contentType != null) {
      try {
        codecs.decoderFor(contentType, type);
      } catch (BadInputException e) {
        throw new IllegalArgumentException(
            channel + ": no codec reads its default content type " + contentType + " into " + type,
            e);
      }
    }
  }

  private <T, R> Subscription start(
      Channel<T> channel,
      Destination source,
      String group,
      ConsumerPipeline.Invoker<T, R> handler,
      SubscriptionOptions options) {
    Objects.requireNonNull(options, "options");
    ensureOpen();
    requireDefaultDecodable(channel, channel.payloadType());
    String name = channel.name() + (group.equals(channel.name()) ? "" : "/" + group);
    ExecutorService pool = handler.blocking() ? handlerPool(name, options.concurrency()) : null;
    Executor executor = pool != null ? pool : Runnable::run;
    List<DeliveryInterceptor> chain = new ArrayList<>(interceptors);
    chain.addAll(options.interceptors());
    List<DeliveryInterceptor> perAttempt = new ArrayList<>(attemptInterceptors);
    perAttempt.addAll(options.attemptInterceptors());
    ConsumerPipeline<T, R> pipeline =
        new ConsumerPipeline<>(
            channel,
            group,
            handler,
            options,
            chain,
            perAttempt,
            transport,
            codecs,
            clock,
            counters,
            retries,
            executor,
            replyTargets);
    Lanes lanes =
        new Lanes(
            channel.isPartitioned(), executor, pipeline::process, pipeline::processDeadLettered);
    TransportSubscription subscription;
    try {
      // One consumer: it pushes deliveries without waiting, so lanes, not consumers, give the
      // concurrency; prefetch bounds what the subscription holds unsettled.
      subscription =
          transport.subscribe(
              source,
              new ConsumerSettings(1, options.prefetch(), false, channel.isPartitioned()),
              lanes);
    } catch (RuntimeException e) {
      if (pool != null) {
        pool.shutdownNow();
      }
      throw e;
    }
    String dispatch =
        handler.blocking()
            ? options.concurrency() + " lanes (blocking handler pool)"
            : "asynchronous handler on the transport's thread";
    String describe =
        name
            + ": "
            + dispatch
            + (channel.isPartitioned() ? ", per-key order" : "")
            + (channel.defaultContentType() == null
                ? ""
                : ", messages without a content type read as " + channel.defaultContentType())
            + ", prefetch "
            + options.prefetch()
            + "; "
            + pipeline.describe();
    SubscriptionHandle handle =
        new SubscriptionHandle(channel.name(), group, subscription, pool, describe);
    subscriptions.add(handle);
    return handle;
  }

  /**
   * The threads a blocking handler runs on: {@code size} of them, daemons, named after it; {@link
   * HandlerThread}s, so a transport may make its blocking settle calls on them.
   */
  private static ExecutorService handlerPool(String name, int size) {
    AtomicInteger n = new AtomicInteger();
    return new ThreadPoolExecutor(
        size,
        size,
        30,
        TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(),
        r -> new HandlerThread(r, "parley-handler-" + name + "-" + n.incrementAndGet()));
  }

  @Override
  public SubscriptionOptions defaultSubscriptionOptions() {
    return defaults;
  }

  @Override
  public MessagingMetrics metrics() {
    return counters.snapshot(replies.size());
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (SubscriptionHandle s : subscriptions) {
      s.close();
    }
    TransportSubscription replySub = replySubscription;
    if (replySub != null) {
      replySub.close();
    }
    replies.failAll(
        new TransportException("parley.closed", "messaging closed before the reply came", null));
    retries.shutdownNow();
    if (ownsTransport) {
      transport.close();
    }
  }

  private <T> Message.Builder draft(Channel<T> channel, T payload) {
    Objects.requireNonNull(payload, "payload");
    Codec codec = codecs.encoderFor(channel.payloadType());
    Message.Builder builder =
        Payloads.builder(codec.encode(payload))
            .id(MessageIds.next(clock))
            .header(Headers.TYPE, channel.messageType())
            .header(Headers.CONTENT_TYPE, codec.contentType())
            .header(Headers.SOURCE, service);
    String key = channel.partitionKeyOf(payload);
    if (key != null) {
      builder.header(Headers.PARTITION_KEY, key);
    }
    return builder;
  }

  private CompletableFuture<Message> sendTracked(Destination destination, Message message) {
    return sendTracked(destination, message, SendOptions.NONE);
  }

  private CompletableFuture<Message> sendTracked(
      Destination destination, Message message, SendOptions options) {
    ensureOpen();
    Message[] sentAs = {message};
    CompletableFuture<Void> sent =
        publishInterceptors.isEmpty()
            ? sendGuarded(destination, message, options)
            : publishThrough(0, destination, message, sentAs, options).toCompletableFuture();
    return sent.thenApply(
            v -> {
              counters.sent.increment();
              return sentAs[0];
            })
        .copy();
  }

  /** The publish chain from interceptor {@code index} on: interceptors → policy → transport. */
  private CompletionStage<Void> publishThrough(
      int index, Destination destination, Message message, Message[] sentAs, SendOptions options) {
    if (index == publishInterceptors.size()) {
      sentAs[0] = message;
      return sendGuarded(destination, message, options);
    }
    try {
      CompletionStage<Void> stage =
          publishInterceptors
              .get(index)
              .intercept(
                  destination,
                  message,
                  m ->
                      publishThrough(
                          index + 1, destination, Objects.requireNonNull(m), sentAs, options));
      return stage == null
          ? CompletableFuture.failedFuture(new IllegalStateException("interceptor returned null"))
          : stage;
    } catch (RuntimeException | Error e) {
      // An interceptor's Error too (a class its library needs missing at run time): that publish
      // fails, as its future says; thrown on, it would end the caller's thread — an outbox relay's
      return CompletableFuture.failedFuture(e);
    }
  }

  private CompletableFuture<Void> sendGuarded(
      Destination destination, Message message, SendOptions options) {
    return publishPolicy == Policy.none()
        ? transport.send(destination, message, options)
        : publishPolicy.execute(
            Policy.Call.NON_IDEMPOTENT.withIdempotencyKey(message.id()),
            deadline -> transport.send(destination, message, options));
  }

  private void ensureReplyChannel() {
    if (replySubscription != null) {
      return;
    }
    synchronized (replyLock) {
      if (replySubscription == null) {
        replySubscription =
            transport.subscribe(
                new Destination.Queue(replyQueue), new ConsumerSettings(1, 100, true), replies);
      }
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("messaging of " + service + " is closed");
    }
  }

  private static void requireKind(Channel<?> channel, Channel.Kind kind) {
    Objects.requireNonNull(channel, "channel");
    if (channel.kind() != kind) {
      throw new IllegalArgumentException(
          "channel: "
              + channel
              + " (expected: a "
              + kind.name().toLowerCase(java.util.Locale.ROOT)
              + " channel)");
    }
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
        ? t.getCause()
        : t;
  }

  private final class SubscriptionHandle implements Subscription {
    private final String channel;
    private final String group;
    private final TransportSubscription delegate;
    private final ExecutorService pool;
    private final String describe;

    SubscriptionHandle(
        String channel,
        String group,
        TransportSubscription delegate,
        ExecutorService pool,
        String describe) {
      this.channel = channel;
      this.group = group;
      this.delegate = delegate;
      this.pool = pool;
      this.describe = describe;
    }

    @Override
    public String describe() {
      return describe;
    }

    @Override
    public String channel() {
      return channel;
    }

    @Override
    public String group() {
      return group;
    }

    @Override
    public void close() {
      subscriptions.remove(this);
      // The transport stops pushing, waits (bounded) for what is being handled to be settled and
      // gives the rest back; then the handler pool ends.
      delegate.close();
      if (pool != null) {
        pool.shutdown();
      }
    }
  }
}
