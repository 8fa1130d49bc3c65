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
   * Runs the rest of the chain. The stage completes with what the handler returned (null for an
   * event handler, or when the rest of the chain dealt with the message without the handler: it
   * expired, was dead-lettered or is redelivered later), and fails only when the message could not
   * be dealt with at all — the transport then gives it back to the broker.
   */
  CompletionStage<Object> proceed();
}
