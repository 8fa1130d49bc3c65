package dev.parley.error;

/** The deadline of a call or message passed before it completed. */
public final class DeadlineExceededException extends ParleyException {

  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message) {
    super(Status.of(Code.DEADLINE_EXCEEDED, "parley.deadline_exceeded", message), null);
  }
}
