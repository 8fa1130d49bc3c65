package dev.parley.transport.stomp;

import java.io.IOException;

/** The peer sent bytes that are not a STOMP 1.2 frame within Parley's limits. */
class StompProtocolException extends IOException {

  StompProtocolException(String message) {
    super(message);
  }
}
