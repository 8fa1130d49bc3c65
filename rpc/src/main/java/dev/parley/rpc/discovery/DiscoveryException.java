package dev.parley.rpc.discovery;

/** A registry could not be reached or refused an operation. */
public final class DiscoveryException extends RuntimeException {

  DiscoveryException(String message, Throwable cause) {
    super(message, cause);
  }
}
