package dev.parley.message;

/**
 * The names of the headers that make up Parley's wire contract. Every transport carries them
 * verbatim (AMQP 1.0 application properties, AMQP 0-9-1 headers, STOMP headers); {@code
 * docs/wire.md} describes each one and how a transport mirrors some of them into native protocol
 * fields.
 */
public final class Headers {

  /** Message id, a UUIDv7 string. */
  public static final String ID = "parley-id";

  /** Logical message type, e.g. {@code order.OrderCreated}. */
  public static final String TYPE = "parley-type";

  /** MIME type of the payload, e.g. {@code application/json}; chooses the codec on decode. */
  public static final String CONTENT_TYPE = "content-type";

  /** On a reply: the id of the request it answers. */
  public static final String CORRELATION_ID = "parley-correlation-id";

  /** The id of the message whose handling caused this one. */
  public static final String CAUSATION_ID = "parley-causation-id";

  /** On a request: the address of the caller's reply channel. */
  public static final String REPLY_TO = "parley-reply-to";

  /**
   * On a request from a Parley caller: a per-request secret that the reply must carry back
   * unchanged. The caller completes a request only with a reply that has it, so a third party that
   * learns a request's id and reply address cannot answer it in the responder's place. Not kept on
   * dead letters.
   */
  public static final String REPLY_TOKEN = "parley-reply-token";

  /** Absolute deadline in epoch milliseconds; an expired message is not processed. */
  public static final String DEADLINE = "parley-deadline";

  /** Messages with the same key are handled in order on a partitioned channel. */
  public static final String PARTITION_KEY = "parley-partition-key";

  /** 1-based number of the handling attempt this delivery is for. */
  public static final String ATTEMPT = "parley-attempt";

  /** Name of the service that sent the message. */
  public static final String SOURCE = "parley-source";

  /**
   * The channel a message was sent to. Parley no longer writes it (since December 2026): a consumer
   * knows the channel it subscribed to, a dead letter names it in {@link #ORIGINAL_CHANNEL}, and
   * every header line costs the broker work per message. Reserved, and read like any header from
   * older senders.
   */
  public static final String CHANNEL = "parley-channel";

  /** W3C trace context. */
  public static final String TRACEPARENT = "traceparent";

  /** W3C trace state. */
  public static final String TRACESTATE = "tracestate";

  /**
   * On a request: the caller's credentials, as an HTTP {@code Authorization} value ({@code Bearer
   * <token>}), checked by a responder that authenticates its callers. Never copied to a dead
   * letter.
   */
  public static final String AUTHORIZATION = "parley-authorization";

  /**
   * On a failure reply: the {@link dev.parley.error.Code} of the failure. A reply without it is
   * {@code OK}; Parley's responders leave it out of a success (since December 2026; they wrote
   * {@code OK} before, which callers read the same).
   */
  public static final String STATUS = "parley-status";

  /** On a failure reply or dead letter: a stable, machine-readable error code. */
  public static final String ERROR_CODE = "parley-error-code";

  /** On a failure reply or dead letter: a human-readable error message. */
  public static final String ERROR_MESSAGE = "parley-error-message";

  /** On a dead letter: the class name of the exception that failed the last attempt. */
  public static final String EXCEPTION_CLASS = "parley-exception-class";

  /** On a dead letter: the channel the message was consumed from. */
  public static final String ORIGINAL_CHANNEL = "parley-original-channel";

  /** On a dead letter: the queue the message was consumed from (where a replay sends it). */
  public static final String ORIGINAL_QUEUE = "parley-original-queue";

  /** On a dead letter: when the first attempt failed, epoch milliseconds. */
  public static final String FIRST_FAILURE_TIME = "parley-first-failure-time";

  private Headers() {}
}
