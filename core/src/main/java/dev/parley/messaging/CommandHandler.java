package dev.parley.messaging;

/**
 * Handles one command and returns its reply. When the command was sent with {@link
 * Messaging#request}, the returned value is sent back to the caller; for a one-way command it is
 * dropped. Failure semantics are those of {@link MessageHandler}; when the last attempt fails, the
 * caller gets a failure reply carrying the error's {@link dev.parley.error.Status}.
 *
 * @param <C> the command type
 * @param <R> the reply type
 */
@FunctionalInterface
public interface CommandHandler<C, R> {

  R handle(C command, MessageContext context) throws Exception;
}
