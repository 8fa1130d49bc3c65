package dev.parley.testing.kit;

import dev.parley.messaging.MessageContext;
import dev.parley.messaging.MessageHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * A {@link MessageHandler} that records every call (payload, attempt, message) and can be told to
 * fail: {@code RecordingHandler.failing((payload, ctx) -> ctx.attempt() < 3 ? new
 * IllegalStateException("boom") : null)} throws the returned exception, or succeeds when it is
 * null. Thread-safe.
 *
 * @param <T> the payload type
 */
public final class RecordingHandler<T> implements MessageHandler<T> {

  /** One recorded call. */
  public record Call<T>(T payload, MessageContext context, String thread) {}

  private final BiFunction<T, MessageContext, RuntimeException> failure;
  private final List<Call<T>> calls = new ArrayList<>();

  private RecordingHandler(BiFunction<T, MessageContext, RuntimeException> failure) {
    this.failure = failure;
  }

  /** Records and always succeeds. */
  public static <T> RecordingHandler<T> succeeding() {
    return new RecordingHandler<>((p, c) -> null);
  }

  /**
   * Records, then throws what {@code failure} returns for the call (nothing when it returns null).
   */
  public static <T> RecordingHandler<T> failing(
      BiFunction<T, MessageContext, RuntimeException> failure) {
    return new RecordingHandler<>(Objects.requireNonNull(failure, "failure"));
  }

  @Override
  public void handle(T payload, MessageContext context) {
    synchronized (calls) {
      calls.add(new Call<>(payload, context, Thread.currentThread().getName()));
    }
    RuntimeException e = failure.apply(payload, context);
    if (e != null) {
      throw e;
    }
  }

  /** A copy of the calls so far, in call order. */
  public List<Call<T>> calls() {
    synchronized (calls) {
      return new ArrayList<>(calls);
    }
  }

  /** The payloads of the calls so far, in call order. */
  public List<T> payloads() {
    return calls().stream().map(Call::payload).toList();
  }

  public int callCount() {
    synchronized (calls) {
      return calls.size();
    }
  }
}
