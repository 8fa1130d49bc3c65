package dev.parley.jdbc;

/** The outbox could not write or read its table; the caller's transaction should roll back. */
public final class OutboxException extends RuntimeException {

  OutboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
