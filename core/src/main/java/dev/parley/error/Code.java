package dev.parley.error;

/**
 * Status codes, the same set as gRPC's, each mapped to one HTTP status. The mapping is the one
 * every binding uses, so a failure has the same code over REST, gRPC and messaging.
 */
public enum Code {
  OK(200, false),
  CANCELLED(499, false),
  UNKNOWN(500, true),
  INVALID_ARGUMENT(400, false),
  DEADLINE_EXCEEDED(504, false),
  NOT_FOUND(404, false),
  ALREADY_EXISTS(409, false),
  PERMISSION_DENIED(403, false),
  RESOURCE_EXHAUSTED(429, true),
  FAILED_PRECONDITION(400, false),
  ABORTED(409, true),
  OUT_OF_RANGE(400, false),
  UNIMPLEMENTED(501, false),
  INTERNAL(500, true),
  UNAVAILABLE(503, true),
  DATA_LOSS(500, false),
  UNAUTHENTICATED(401, false);

  private final int httpStatus;
  private final boolean retryable;

  Code(int httpStatus, boolean retryable) {
    this.httpStatus = httpStatus;
    this.retryable = retryable;
  }

  /** The HTTP status this code maps to. */
  public int httpStatus() {
    return httpStatus;
  }

  /** Whether trying the same thing again may succeed. */
  public boolean isRetryable() {
    return retryable;
  }

  /** Parses a code name; unknown names give {@link #UNKNOWN}. */
  public static Code parse(String name) {
    if (name == null) {
      return UNKNOWN;
    }
    try {
      return valueOf(name);
    } catch (IllegalArgumentException e) {
      return UNKNOWN;
    }
  }
}
