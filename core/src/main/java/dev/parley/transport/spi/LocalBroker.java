package dev.parley.transport.spi;

import java.net.URI;

/**
 * A broker running in this JVM for zero-configuration use, shared by every transport in the JVM
 * that asked for it. {@link #close()} releases this holder's claim; the broker stops when the last
 * claim is released.
 */
public interface LocalBroker extends AutoCloseable {

  /** The AMQP 1.0 endpoint, e.g. {@code amqp://127.0.0.1:61616}. */
  URI amqpUri();

  /** The STOMP endpoint. */
  URI stompUri();

  @Override
  void close();
}
