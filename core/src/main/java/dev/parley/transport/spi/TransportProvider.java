package dev.parley.transport.spi;

import java.net.URI;
import java.util.Optional;

/**
 * Makes a transport discoverable through {@link java.util.ServiceLoader}; a transport artifact
 * lists its provider in {@code META-INF/services/dev.parley.transport.spi.TransportProvider}.
 */
public interface TransportProvider {

  /** Whether this provider handles a broker URI, e.g. {@code amqp://localhost:5672}. */
  boolean supports(URI brokerUri);

  /**
   * Creates a transport for {@code brokerUri}, or with no URI for the provider's zero-configuration
   * default (for AMQP: the embedded broker).
   */
  Transport create(Optional<URI> brokerUri);
}
