package dev.parley.messaging;

import java.util.Objects;
import java.util.function.Function;

/**
 * A named destination carrying payloads of one type. Immutable and thread-safe.
 *
 * <ul>
 *   <li>An {@linkplain #event event} channel is publish/subscribe: every subscriber group gets each
 *       event, members of one group compete.
 *   <li>A {@linkplain #command command} channel is point-to-point and owned by one service: its
 *       consumers compete; a command may be one-way or expect a reply.
 * </ul>
 *
 * A channel with a {@linkplain #withPartitionKey partition key} is partitioned: messages with the
 * same key are handled in order, different keys in parallel.
 *
 * <pre>{@code
 * Channel<OrderCreated> orders =
 *     Channel.event("order.events", OrderCreated.class).withPartitionKey(OrderCreated::orderId);
 * }</pre>
 *
 * @param <T> the payload type
 */
public final class Channel<T> {

  /** What kind of channel. */
  public enum Kind {
    EVENT,
    COMMAND
  }

  private final String name;
  private final Kind kind;
  private final Class<T> payloadType;
  private final String messageType;
  private final Function<? super T, String> partitionKey;
  private final boolean repliesByCorrelationId;
  private final String defaultContentType;

  private Channel(
      String name,
      Kind kind,
      Class<T> payloadType,
      String messageType,
      Function<? super T, String> partitionKey,
      boolean repliesByCorrelationId,
      String defaultContentType) {
    this.name = name;
    this.kind = kind;
    this.payloadType = payloadType;
    this.messageType = messageType;
    this.partitionKey = partitionKey;
    this.repliesByCorrelationId = repliesByCorrelationId;
    this.defaultContentType = defaultContentType;
  }

  /** An event (publish/subscribe) channel. */
  public static <T> Channel<T> event(String name, Class<T> payloadType) {
    return create(name, Kind.EVENT, payloadType);
  }

  /** A command (point-to-point) channel. */
  public static <T> Channel<T> command(String name, Class<T> payloadType) {
    return create(name, Kind.COMMAND, payloadType);
  }

  private static <T> Channel<T> create(String name, Kind kind, Class<T> payloadType) {
    Objects.requireNonNull(name, "name");
    if (!dev.parley.internal.Names.isValid(name)) {
      throw new IllegalArgumentException(
          "name: '" + name + "' (expected: non-blank, no whitespace, no '::')");
    }
    Objects.requireNonNull(payloadType, "payloadType");
    return new Channel<>(name, kind, payloadType, payloadType.getSimpleName(), null, false, null);
  }

  /** A partitioned copy of this channel whose partition key is taken from each payload. */
  public Channel<T> withPartitionKey(Function<? super T, String> partitionKey) {
    return new Channel<>(
        name,
        kind,
        payloadType,
        messageType,
        Objects.requireNonNull(partitionKey),
        repliesByCorrelationId,
        defaultContentType);
  }

  /** A copy whose messages carry {@code messageType} as their logical type header. */
  public Channel<T> withMessageType(String messageType) {
    if (messageType == null || messageType.isBlank()) {
      throw new IllegalArgumentException(
          "messageType: '" + messageType + "' (expected: non-blank)");
    }
    return new Channel<>(
        name,
        kind,
        payloadType,
        messageType,
        partitionKey,
        repliesByCorrelationId,
        defaultContentType);
  }

  /**
   * A copy of this command channel whose requests a responder that does not know Parley can answer:
   * RabbitMQ's RPC tutorial server (pika, amqplib …), Spring AMQP's {@code @RabbitListener}, a JMS
   * listener that copies the request's JMSCorrelationID into its reply. Each request then carries,
   * instead of {@code parley-reply-token}, a correlation id of 128 random bits made for it alone
   * (native {@code correlation_id} on RabbitMQ, JMSCorrelationID on AMQP 1.0, {@code
   * correlation-id} on STOMP), and the reply that carries that correlation id answers it. Parley's
   * own responders answer such requests too.
   *
   * <p>What this gives up (docs/guide.md, "Who can answer a request"): the secret that answers a
   * request is its correlation id, which also travels where the reply token never does — on the
   * request's dead letter, in logs and traces that record correlation ids — so whoever reads those
   * while the request waits, and may write to the caller's reply queue, can answer it. That is how
   * those responders' own clients match replies; use it for such responders, not between Parley
   * services.
   *
   * @throws IllegalStateException on an event channel (nothing replies to an event)
   */
  public Channel<T> withRepliesByCorrelationId() {
    if (kind != Kind.COMMAND) {
      throw new IllegalStateException(this + ": replies by correlation id need a command channel");
    }
    return new Channel<>(
        name, kind, payloadType, messageType, partitionKey, true, defaultContentType);
  }

  /**
   * A copy whose messages that carry no {@code content-type} are read as {@code contentType}, as a
   * Spring Cloud Stream binding's content type does: for senders that write none (a raw client,
   * Spring JMS's JSON converter, RabbitMQ's RPC tutorial server answering a request on this
   * channel). It applies to what Parley receives on the channel — its events or commands, and the
   * replies to requests sent on it; a message that names another content type is read as that one,
   * and Parley always names the content type of what it sends. Without it such a message is
   * dead-lettered (a reply fails its call) with {@code parley.codec.missing_content_type}.
   * Subscribing, serving or requesting fails at once when no codec reads {@code contentType} into
   * the payload (or reply) type.
   */
  public Channel<T> withDefaultContentType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      throw new IllegalArgumentException(
          "contentType: '" + contentType + "' (expected: a content type such as application/json)");
    }
    return new Channel<>(
        name, kind, payloadType, messageType, partitionKey, repliesByCorrelationId, contentType);
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  public Class<T> payloadType() {
    return payloadType;
  }

  /**
   * The logical type carried in the {@code parley-type} header; the payload class's simple name by
   * default.
   */
  public String messageType() {
    return messageType;
  }

  /** What a message received on this channel without a content type is read as, or null. */
  public String defaultContentType() {
    return defaultContentType;
  }

  /** {@code contentType}, or this channel's default when that is missing or blank. */
  String contentTypeOr(String contentType) {
    return contentType == null || contentType.isBlank() ? defaultContentType : contentType;
  }

  /** Whether requests on this channel are matched to replies by a correlation id alone. */
  public boolean repliesByCorrelationId() {
    return repliesByCorrelationId;
  }

  public boolean isPartitioned() {
    return partitionKey != null;
  }

  /** The partition key of a payload, or {@code null} if the channel is not partitioned. */
  String partitionKeyOf(T payload) {
    if (partitionKey == null) {
      return null;
    }
    String key = partitionKey.apply(payload);
    if (key == null) {
      throw new IllegalArgumentException(
          "partition key: null (expected: a key) on channel " + name);
    }
    return key;
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(java.util.Locale.ROOT) + " channel " + name;
  }
}
