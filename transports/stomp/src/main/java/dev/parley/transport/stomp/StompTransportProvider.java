package dev.parley.transport.stomp;

import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportProvider;
import java.net.URI;
import java.util.Optional;

/** Makes {@link StompTransport}s for {@code stomp://} and {@code stomps://} broker URIs. */
public final class StompTransportProvider implements TransportProvider {

  static final URI DEFAULT = URI.create("stomp://guest:guest@localhost:61613/");

  @Override
  public boolean supports(URI brokerUri) {
    return "stomp".equals(brokerUri.getScheme()) || "stomps".equals(brokerUri.getScheme());
  }

  @Override
  public Transport create(Optional<URI> brokerUri) {
    return StompTransport.builder(brokerUri.orElse(DEFAULT)).build();
  }
}
