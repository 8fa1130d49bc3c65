package dev.parley.transport.stomp;

import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.tck.RequestReplyChaos;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M10 on STOMP, against the machine's RabbitMQ (its STOMP plugin, a virtual host of
 * the test's own): requests go out without a RECEIPT.
 */
class StompRequestReplyChaosIT extends RequestReplyChaos {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  @Override
  protected String brokerHost() {
    return "127.0.0.1";
  }

  @Override
  protected int brokerPort() {
    return 61613;
  }

  @Override
  protected Transport newTransport(String host, int port) {
    return StompTransport.builder(
            URI.create("stomp://guest:guest@" + host + ":" + port + "/" + rabbit.vhost()))
        .sendTimeout(Duration.ofSeconds(3))
        .heartbeat(Duration.ofSeconds(2))
        .reconnectInterval(Duration.ofMillis(250))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  protected URI brokerUri() {
    return URI.create("stomp://guest:guest@127.0.0.1:61613/" + rabbit.vhost());
  }
}
