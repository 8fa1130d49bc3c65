package dev.parley.messaging;

/**
 * Handles one message of a subscription. Called on a consumer thread; calls for one partition key
 * never overlap. Returning normally acknowledges the message; throwing starts the subscription's
 * {@link Redelivery} tiers, except for a {@link dev.parley.error.BadInputException}, which sends
 * the message to the dead-letter channel at once.
 *
 * @param <T> the payload type
 */
@FunctionalInterface
public interface MessageHandler<T> {

  void handle(T payload, MessageContext context) throws Exception;
}
