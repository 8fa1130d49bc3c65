package dev.parley.transport.spi;

/**
 * Starts (or joins) the in-JVM broker a transport uses when no broker URI is configured. Found
 * through {@link java.util.ServiceLoader}; {@code parley-broker-embedded} provides one.
 */
public interface LocalBrokerProvider {

  /** Starts the local broker, or joins it if this JVM already runs it. */
  LocalBroker acquire();
}
