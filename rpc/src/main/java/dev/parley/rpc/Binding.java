package dev.parley.rpc;

import java.util.Locale;

/** How an operation travels between caller and server. */
public enum Binding {
  /** HTTP with JSON, XML or Protobuf bodies; routes from the operation. */
  REST,
  /** gRPC unary calls over HTTP/2 with the operation's codecs as marshallers. */
  GRPC,
  /** A command and its reply through the broker. */
  MESSAGING;

  /**
   * Parses {@code rest}, {@code grpc} or {@code messaging}, in any case, e.g. from configuration.
   */
  public static Binding parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(
          "binding: " + name + " (expected: rest, grpc or messaging)", e);
    }
  }
}
