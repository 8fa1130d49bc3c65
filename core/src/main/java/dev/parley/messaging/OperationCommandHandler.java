package dev.parley.messaging;

import dev.parley.operation.AsyncOperationHandler;
import dev.parley.operation.CallContext;
import dev.parley.operation.OperationHandler;
import dev.parley.policy.Deadline;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** Serves an operation's handler as the command handler of its messaging binding. */
final class OperationCommandHandler<I, O> implements CommandHandler<I, O> {

  private final OperationHandler<I, O> handler;

  OperationCommandHandler(OperationHandler<I, O> handler) {
    this.handler = handler;
  }

  @Override
  public O handle(I command, MessageContext context) throws Exception {
    Deadline deadline = deadlineOf(context);
    Context callContext = new Context(context, deadline);
    if (deadline == null) {
      return handler.handle(command, callContext);
    }
    try (Deadline.Scope scope = deadline.attach()) {
      return handler.handle(command, callContext);
    }
  }

  private static Deadline deadlineOf(MessageContext context) {
    return context
        .deadline()
        .map(at -> Deadline.after(Duration.between(Instant.now(), at)))
        .orElse(null);
  }

  /** An {@link AsyncOperationHandler} as the asynchronous command handler of its binding. */
  static final class Async<I, O> implements AsyncCommandHandler<I, O> {
    private final AsyncOperationHandler<I, O> handler;

    Async(AsyncOperationHandler<I, O> handler) {
      this.handler = handler;
    }

    @Override
    public CompletionStage<O> handle(I command, MessageContext context) {
      Deadline deadline = deadlineOf(context);
      Context callContext = new Context(context, deadline);
      try {
        if (deadline == null) {
          return handler.handle(command, callContext);
        }
        try (Deadline.Scope scope = deadline.attach()) {
          return handler.handle(command, callContext);
        }
      } catch (RuntimeException e) {
        // thrown rather than returned: the same answer as a failed stage
        return CompletableFuture.failedFuture(e);
      }
    }
  }

  private record Context(MessageContext message, Deadline deadlineOrNull) implements CallContext {

    @Override
    public String binding() {
      return "messaging";
    }

    @Override
    public Optional<Deadline> deadline() {
      return Optional.ofNullable(deadlineOrNull);
    }

    @Override
    public Optional<String> idempotencyKey() {
      return Optional.of(message.message().id());
    }

    @Override
    public Optional<String> header(String name) {
      return message.message().header(name);
    }

    /** A caller over messaging gives up at its deadline; there is no other signal. */
    @Override
    public boolean isCancelled() {
      return deadlineOrNull != null && deadlineOrNull.isExpired();
    }

    @Override
    public void onCancel(Runnable action) {
      if (deadlineOrNull == null) {
        return;
      }
      CompletableFuture.runAsync(
          action,
          CompletableFuture.delayedExecutor(
              Math.max(0, deadlineOrNull.remaining().toNanos()), TimeUnit.NANOSECONDS));
    }
  }
}
