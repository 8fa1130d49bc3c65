package dev.parley.error;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a remote interaction: a {@link Code}, a stable machine-readable {@code errorCode}
 * (e.g. {@code parley.codec.malformed}), a human-readable message and string details. Immutable.
 *
 * @param code the status code
 * @param errorCode a stable, dotted error code that callers may switch on
 * @param message a human-readable message; never contains payloads or secrets
 * @param details further string details
 */
public record Status(Code code, String errorCode, String message, Map<String, String> details) {

  /** The successful status. */
  public static final Status OK = new Status(Code.OK, "ok", "", Map.of());

  public Status {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(errorCode, "errorCode");
    message = message == null ? "" : message;
    details = Map.copyOf(details);
  }

  /** A status with a code, an error code and a message, and no details. */
  public static Status of(Code code, String errorCode, String message) {
    return new Status(code, errorCode, message, Map.of());
  }

  public boolean isOk() {
    return code == Code.OK;
  }

  /** The exception a caller sees for this status when it comes from a remote party. */
  public RemoteException asException() {
    return new RemoteException(this);
  }
}
