package dev.parley.transport.stomp;

import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.tck.BrokerAddressesTck;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The STOMP transport given several nodes ({@link StompTransport.Builder#addresses}). */
class StompAddressesIT extends BrokerAddressesTck {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  @Override
  protected int brokerPort() {
    return broker.stompUri().getPort();
  }

  @Override
  protected Transport transport(String... addresses) {
    return StompTransport.builder(URI.create("stomp://unused.invalid:1/"))
        .addresses(addresses)
        .heartbeat(Duration.ofMillis(500))
        .connectTimeout(Duration.ofSeconds(1))
        .reconnectInterval(Duration.ofMillis(100))
        .sendTimeout(Duration.ofSeconds(5))
        .closeTimeout(Duration.ofSeconds(2))
        .startupConnectAttempts(2)
        .build();
  }

  @Override
  protected String brokerUrl(int... ports) {
    return "stomp://guest:guest@" + loopback(",", ports) + "/";
  }

  @Override
  protected long reconnects(Transport transport) {
    return ((StompTransport) transport).reconnects();
  }

  @Override
  protected boolean isConnected(Transport transport) {
    return ((StompTransport) transport).isConnected();
  }

  @Override
  protected String namesAll(int... ports) {
    return "at " + loopback(", ", ports);
  }

  @Override
  protected String connectFailureCode() {
    return "parley.transport.connect";
  }
}
