package dev.parley.error;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A call was refused before it was attempted: circuit open, rate limited or bulkhead full — locally
 * by the caller's policy, or by the server's (then it arrives as a {@link RemoteException} with
 * {@link Code#RESOURCE_EXHAUSTED}). {@link #retryAfter()} says when trying again may succeed.
 */
public final class RejectedException extends ParleyException {

  private static final long serialVersionUID = 1L;

  /** The {@link Status#details()} key of the retry-after hint, in milliseconds. */
  public static final String RETRY_AFTER_MILLIS = "retry-after-ms";

  public RejectedException(String errorCode, String message) {
    super(Status.of(Code.RESOURCE_EXHAUSTED, errorCode, message), null);
  }

  public RejectedException(String errorCode, String message, Duration retryAfter) {
    super(
        new Status(
            Code.RESOURCE_EXHAUSTED,
            errorCode,
            message,
            Map.of(RETRY_AFTER_MILLIS, Long.toString(retryAfter.toMillis()))),
        null);
  }

  /** When trying again may succeed, if known. */
  public Optional<Duration> retryAfter() {
    return retryAfterOf(status());
  }

  /** The retry-after hint a status carries, if any. */
  public static Optional<Duration> retryAfterOf(Status status) {
    String millis = status.details().get(RETRY_AFTER_MILLIS);
    if (millis == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Duration.ofMillis(Long.parseLong(millis)));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Refusals are local decisions: retrying at once would be refused again. */
  @Override
  public boolean isRetryable() {
    return false;
  }
}
