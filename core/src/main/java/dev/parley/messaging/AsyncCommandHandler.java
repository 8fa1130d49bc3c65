package dev.parley.messaging;

import java.util.concurrent.CompletionStage;

/**
 * A {@link CommandHandler} that does not block: it returns at once with a stage that completes with
 * the reply (or fails, with the failure semantics of {@link MessageHandler}). It is called on the
 * transport's dispatch thread, without a hand-off to a handler pool, so it must never block there;
 * per-key order holds as for blocking handlers (the next message of a key starts when the stage
 * completes).
 */
@FunctionalInterface
public interface AsyncCommandHandler<C, R> {

  CompletionStage<R> handle(C command, MessageContext context);
}
