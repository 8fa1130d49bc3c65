package dev.parley.error;

/**
 * The input is wrong and will stay wrong: malformed, too large, of an unknown type. Never retried;
 * a consumer dead-letters such a message after one delivery, a server answers 400 / {@code
 * INVALID_ARGUMENT}. Handlers throw it to say the same about a message they cannot accept.
 */
public class BadInputException extends ParleyException {

  private static final long serialVersionUID = 1L;

  public BadInputException(String errorCode, String message) {
    this(errorCode, message, null);
  }

  public BadInputException(String errorCode, String message, Throwable cause) {
    super(Status.of(Code.INVALID_ARGUMENT, errorCode, message), cause);
  }
}
