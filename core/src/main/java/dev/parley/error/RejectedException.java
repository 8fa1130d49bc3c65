package dev.parley.error;

/** A call was refused before it was attempted: circuit open, rate limited or bulkhead full. */
public final class RejectedException extends ParleyException {

  private static final long serialVersionUID = 1L;

  public RejectedException(String errorCode, String message) {
    super(Status.of(Code.RESOURCE_EXHAUSTED, errorCode, message), null);
  }
}
