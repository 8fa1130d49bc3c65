package dev.parley.operation;

/**
 * Serves one {@link Operation}, whatever the binding. Runs on a thread that may block. Throw a
 * {@link dev.parley.error.RemoteException} (from {@code Status.of(...).asException()}) to answer
 * with a status and error code; a {@link dev.parley.error.BadInputException} answers {@code
 * INVALID_ARGUMENT}; any other exception answers {@code INTERNAL} with error code {@code
 * parley.handler.failed}.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
@FunctionalInterface
public interface OperationHandler<I, O> {

  O handle(I request, CallContext context) throws Exception;
}
