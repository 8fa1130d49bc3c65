package dev.parley.operation;

import dev.parley.policy.Deadline;
import java.util.Optional;

/**
 * What an {@link OperationHandler} knows about the call it serves besides the input. The call's
 * deadline is also {@linkplain Deadline#current() current} on the handling thread, so calls the
 * handler makes to the next hop inherit the remaining time.
 */
public interface CallContext {

  /** The binding the call came in on: {@code rest}, {@code grpc} or {@code messaging}. */
  String binding();

  /** The call's deadline, if the caller set one. */
  Optional<Deadline> deadline();

  /** The idempotency key the caller sent, if any. */
  Optional<String> idempotencyKey();

  /** A request header (REST), metadata entry (gRPC) or message header (messaging). */
  Optional<String> header(String name);

  /** Whether the caller gave up (cancelled, timed out or disconnected). */
  boolean isCancelled();

  /** Runs {@code action} once when the caller gives up; at once if it already has. */
  void onCancel(Runnable action);

  /**
   * Who called, when the server authenticates its callers (a client certificate or a verified
   * token); empty otherwise.
   */
  default Optional<dev.parley.security.Identity> identity() {
    return Optional.empty();
  }
}
