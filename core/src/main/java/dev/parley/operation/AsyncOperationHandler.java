package dev.parley.operation;

import java.util.concurrent.CompletionStage;

/**
 * Serves one {@link Operation} without blocking, whatever the binding: it returns at once with a
 * stage that completes with the output (or fails, with the failure semantics of {@link
 * OperationHandler}). It is called where the input is ready — an HTTP/2 event loop for REST and
 * gRPC, the transport's dispatch thread over messaging — without a hand-off to a handler pool, so
 * it must never block there; chain on non-blocking clients (an {@code RpcClient}'s {@code
 * callAsync}, {@code Messaging.call}) or hand blocking work to an executor of its own. The caller's
 * deadline is {@linkplain dev.parley.policy.Deadline#current() current} while {@code handle} runs.
 *
 * <p>The counterpart of grpc-java's asynchronous service methods and Armeria's asynchronous
 * services; use {@link OperationHandler} for code that blocks.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
@FunctionalInterface
public interface AsyncOperationHandler<I, O> {

  CompletionStage<O> handle(I request, CallContext context);
}
