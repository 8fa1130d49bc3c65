package dev.parley.error;

/**
 * The root of every exception Parley throws. Subclasses say what the caller can do next:
 *
 * <ul>
 *   <li>{@link DeadlineExceededException}: the deadline passed; do not retry blindly;
 *   <li>{@link RejectedException}: refused locally (circuit open, rate limited, bulkhead full);
 *   <li>{@link RemoteException}: the remote party failed and said how, in a {@link Status};
 *   <li>{@link BadInputException}: the input is wrong; never retried;
 *   <li>{@link TransportException}: connectivity; retrying later may succeed.
 * </ul>
 */
public abstract class ParleyException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Status status;

  protected ParleyException(Status status, Throwable cause) {
    super(status.message(), cause);
    this.status = status;
  }

  /** The status describing this failure; its code maps to HTTP and gRPC statuses. */
  public Status status() {
    return status;
  }

  /** The stable error code, shorthand for {@code status().errorCode()}. */
  public String errorCode() {
    return status.errorCode();
  }

  /** Whether the same operation may succeed if tried again. */
  public boolean isRetryable() {
    return status.code().isRetryable();
  }
}
