package dev.parley.messaging;

import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One delivery on its way through a subscription's {@linkplain DeliveryInterceptor interceptor
 * chain}, as the interceptor at one position sees it.
 */
public interface DeliveryInvocation {

  /** The message as received, headers included. */
  Message message();

  /** The queue the message was consumed from. */
  Destination source();

  /** The channel's name. */
  String channel();

  /** The subscriber group (for a command channel: the channel's name). */
  String group();

  /** How many times the broker has delivered the message, 1 on the first delivery. */
  int deliveryCount();

  /**
   * The 1-based handling attempt; interceptors before the retry step see the attempt the message
   * arrived as (its {@code parley-attempt}), those after it the attempt being made.
   */
  int attempt();

  /** The message's deadline, once the deadline step has read it. */
  Optional<Instant> deadline();

  /** The decoded payload, once the decode step has run. */
  Optional<Object> payload();

  /**
   * What the rest of the chain did with the message, once the stage {@link #proceed()} returned has
   * completed normally — for a metrics or tracing interceptor, which sees that stage complete
   * normally whether the message was handled, dead-lettered, expired or sent for redelivery. Empty
   * before then, when the stage failed (the message goes back to the broker), and when an
   * interceptor further in stopped the message without proceeding.
   */
  Optional<Outcome> outcome();

  /**
   * Why the message was dead-lettered or sent for a later attempt (the last attempt's failure, or
   * why the message could not be read — by Parley, or by the transport: {@link
   * dev.parley.transport.spi.DeadLetters#TOO_LARGE}), once {@link #outcome()} says so; empty
   * otherwise.
   */
  Optional<Throwable> failure();

  /** What became of a delivery ({@link #outcome()}). */
  enum Outcome {
    /** The handler completed normally (and a request's reply was sent). */
    HANDLED,
    /** The dedup step found the group had handled the message already; skipped. */
    DUPLICATE,
    /** Its deadline passed before it was handled; dropped (counted as expired). */
    EXPIRED,
    /** Sent back through the broker for a later attempt (a redelivery tier, unpartitioned). */
    REDELIVERED,
    /**
     * Sent to the subscription's dead-letter queue: bad input, or its last attempt failed — or
     * moved there whole by the transport, which did not hand its payload over (the message was
     * larger than it reads). A request's caller was sent the failure.
     */
    DEAD_LETTERED
  }

  /**
   * Runs the rest of the chain. The stage completes with what the handler returned (null for an
   * event handler, or when the rest of the chain dealt with the message without the handler: it
   * expired, was dead-lettered or is redelivered later), and fails only when the message could not
   * be dealt with at all — the transport then gives it back to the broker.
   */
  CompletionStage<Object> proceed();
}
