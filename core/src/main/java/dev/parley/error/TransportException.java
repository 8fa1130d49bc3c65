package dev.parley.error;

/** The broker or peer could not be reached, or did not confirm in time. Retryable. */
public final class TransportException extends ParleyException {

  private static final long serialVersionUID = 1L;

  public TransportException(String errorCode, String message, Throwable cause) {
    super(Status.of(Code.UNAVAILABLE, errorCode, message), cause);
  }
}
