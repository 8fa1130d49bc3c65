package dev.parley.messaging;

import dev.parley.message.Message;
import dev.parley.operation.Operation;
import dev.parley.operation.OperationHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The asynchronous interaction styles of one service over a broker:
 *
 * <ul>
 *   <li>publish/subscribe: {@link #publish} events, {@link #subscribe} with a subscriber group;
 *   <li>commands and one-way notifications: {@link #send} to a command channel, {@link #serve} it;
 *   <li>asynchronous request/reply: {@link #request}, answered by a {@link #serve}d handler over
 *       the caller's reply channel, bounded by a deadline the responder honours.
 * </ul>
 *
 * <pre>{@code
 * try (Messaging messaging = Messaging.builder().service("order-service").build()) {
 *   messaging.publish(ORDER_EVENTS, new OrderCreated("o-1", 42)).join();
 *   TicketId id = messaging.request(KITCHEN, new CreateTicket("o-1"), TicketId.class,
 *       Duration.ofSeconds(2)).join();
 * }
 * }</pre>
 *
 * With no broker configured, the builder finds a transport on the class path and, for AMQP, starts
 * the embedded broker. Every send completes only when the broker has durably accepted the message.
 * Futures returned here cannot be completed by callers. Thread-safe; close it to release the
 * connection, consumers and threads.
 */
public interface Messaging extends AutoCloseable {

  /** A builder; see {@link MessagingBuilder} for what can be configured. */
  static MessagingBuilder builder() {
    return new MessagingBuilder();
  }

  /** The name of the service this instance speaks for (the {@code parley-source} header). */
  String service();

  /**
   * Publishes an event to every subscriber group of an event channel.
   *
   * @return the message as sent, once the broker has durably accepted it
   */
  <T> CompletableFuture<Message> publish(Channel<T> channel, T event);

  /**
   * The message {@link #publish} (for an event channel) or {@link #send} (for a command channel)
   * would put on the wire — id, type, content type, channel, source, partition key and encoded
   * payload — without sending it. The transactional outbox stores it and sends it later, unchanged.
   */
  <T> Message encode(Channel<T> channel, T payload);

  /** The transport this instance sends and consumes with. */
  dev.parley.transport.spi.Transport transport();

  /**
   * Sends a message {@link #encode} built earlier, unchanged, to the destination it was encoded
   * for, the way {@link #publish} and {@link #send} send: through the publish policy, counted in
   * {@link MessagingMetrics#sent()}. For components that store messages and send them later, such
   * as the outbox relay; applications publish and send.
   *
   * @return completes when the broker has durably accepted the message, or exceptionally with a
   *     {@link dev.parley.error.TransportException} (or the policy's rejection)
   */
  CompletableFuture<Void> forward(
      dev.parley.transport.spi.Destination destination, Message message);

  /**
   * Sends a command, or one-way notification, to a command channel; no reply is expected.
   *
   * @return the message as sent, once the broker has durably accepted it
   */
  <T> CompletableFuture<Message> send(Channel<T> channel, T command);

  /**
   * Sends a command and returns its reply. The request carries a deadline {@code timeout} from now:
   * the responder does not process it after that, and the returned future fails with {@link
   * dev.parley.error.DeadlineExceededException} when no reply came by then. A reply arriving later
   * is dropped and counted in {@link MessagingMetrics#lateReplies()}. A failure reply fails the
   * future with a {@link dev.parley.error.RemoteException} carrying the responder's status.
   */
  <C, R> CompletableFuture<R> request(
      Channel<C> channel, C command, Class<R> replyType, Duration timeout);

  /**
   * Serves an operation over its messaging binding: commands on {@link Operation#commandChannel()}
   * are handled by {@code handler} and answered on the caller's reply channel. The message's
   * deadline is the call's deadline (and {@linkplain dev.parley.policy.Deadline#current() current}
   * while the handler runs); its id is the call's idempotency key. As over REST and gRPC, a failure
   * is answered at once (the request is then dead-lettered with its error headers): the caller's
   * policy decides whether to retry, so the subscription has no redelivery tiers.
   */
  default <I, O> Subscription serve(Operation<I, O> operation, OperationHandler<I, O> handler) {
    return serve(
        operation.commandChannel(),
        new OperationCommandHandler<>(handler),
        defaultSubscriptionOptions().withRedelivery(Redelivery.none()));
  }

  /**
   * {@link #serve(Operation, OperationHandler)} with a handler that does not block: called on the
   * transport's dispatch thread without a hand-off ({@link AsyncCommandHandler}), answered when its
   * stage completes.
   */
  default <I, O> Subscription serveAsync(
      Operation<I, O> operation, dev.parley.operation.AsyncOperationHandler<I, O> handler) {
    return serveAsync(
        operation.commandChannel(),
        new OperationCommandHandler.Async<>(handler),
        defaultSubscriptionOptions().withRedelivery(Redelivery.none()));
  }

  /**
   * Calls an operation over its messaging binding: a {@link #request} on its command channel,
   * answered by a {@link #serve(Operation, OperationHandler)}d handler.
   */
  default <I, O> CompletableFuture<O> call(Operation<I, O> operation, I input, Duration timeout) {
    return request(operation.commandChannel(), input, operation.outputType(), timeout);
  }

  /**
   * {@link #call(Operation, Object, Duration)} with the caller's credentials in the request's
   * {@link dev.parley.message.Headers#AUTHORIZATION} header ({@code Bearer <token>}), for a
   * responder that authenticates its callers.
   */
  default <I, O> CompletableFuture<O> call(
      Operation<I, O> operation, I input, Duration timeout, String authorization) {
    throw new UnsupportedOperationException("credentials over messaging: not supported here");
  }

  /** Subscribes a group to an event channel with the default {@link SubscriptionOptions}. */
  default <T> Subscription subscribe(Channel<T> channel, String group, MessageHandler<T> handler) {
    return subscribe(channel, group, handler, defaultSubscriptionOptions());
  }

  /**
   * Subscribes a group to an event channel: every group gets every event; subscriptions with the
   * same group, in this process or others, compete for them.
   */
  <T> Subscription subscribe(
      Channel<T> channel, String group, MessageHandler<T> handler, SubscriptionOptions options);

  /** Serves a command channel with the default {@link SubscriptionOptions}. */
  default <C, R> Subscription serve(Channel<C> channel, CommandHandler<C, R> handler) {
    return serve(channel, handler, defaultSubscriptionOptions());
  }

  /**
   * Serves a command channel: consumers of the channel compete for its commands; a handler's return
   * value is the reply to a {@link #request}.
   */
  <C, R> Subscription serve(
      Channel<C> channel, CommandHandler<C, R> handler, SubscriptionOptions options);

  /**
   * Subscribes a group with a handler that does not block ({@link AsyncMessageHandler}): it runs on
   * the transport's dispatch thread, without a hand-off to a handler pool; otherwise as {@link
   * #subscribe(Channel, String, MessageHandler, SubscriptionOptions)}.
   */
  <T> Subscription subscribeAsync(
      Channel<T> channel,
      String group,
      AsyncMessageHandler<T> handler,
      SubscriptionOptions options);

  /**
   * Serves a command channel with a handler that does not block ({@link AsyncCommandHandler}): it
   * runs on the transport's dispatch thread, without a hand-off to a handler pool; otherwise as
   * {@link #serve(Channel, CommandHandler, SubscriptionOptions)}.
   */
  <C, R> Subscription serveAsync(
      Channel<C> channel, AsyncCommandHandler<C, R> handler, SubscriptionOptions options);

  /**
   * The publish chain ({@link PublishInterceptor}s → policy → transport) and the interceptors every
   * subscription starts with, e.g. {@code publish: policy(none) → amqp; consume: tracing →
   * (subscription's chain)}.
   */
  String describe();

  /**
   * Consumes the dead-letter channel of a subscriber group (for an event channel) or of a command
   * channel ({@code group} is then ignored). Dead letters arrive as raw messages carrying the error
   * headers of {@link dev.parley.message.Headers} ({@code parley-error-code}, …); each is
   * acknowledged when {@code handler} returns, and redelivered if it throws.
   */
  Subscription subscribeDeadLetters(Channel<?> channel, String group, DeadLetterHandler handler);

  /** The options {@link #subscribe(Channel, String, MessageHandler)} uses. */
  SubscriptionOptions defaultSubscriptionOptions();

  /** A snapshot of this instance's counters. */
  MessagingMetrics metrics();

  /**
   * Closes subscriptions, fails pending requests, and closes the transport if this instance created
   * it. Idempotent.
   */
  @Override
  void close();
}
