package dev.parley.messaging;

import java.util.concurrent.CompletionStage;

/**
 * A {@link MessageHandler} that does not block: it returns at once with a stage that completes when
 * the event is handled. Called on the transport's dispatch thread (see {@link
 * AsyncCommandHandler}).
 */
@FunctionalInterface
public interface AsyncMessageHandler<T> {

  CompletionStage<?> handle(T payload, MessageContext context);
}
