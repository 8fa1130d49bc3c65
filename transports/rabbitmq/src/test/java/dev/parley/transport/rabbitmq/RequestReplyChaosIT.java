package dev.parley.transport.rabbitmq;

import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.tck.RequestReplyChaos;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;

/** RELIABILITY.md M10 on RabbitMQ (AMQP 0-9-1): requests go out without a publisher confirm. */
class RequestReplyChaosIT extends RequestReplyChaos {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  @Override
  protected String brokerHost() {
    return "127.0.0.1";
  }

  @Override
  protected int brokerPort() {
    return 5672;
  }

  @Override
  protected Transport newTransport(String host, int port) {
    URI uri = URI.create("amqp://guest:guest@" + host + ":" + port + "/" + rabbit.vhost());
    return RabbitTransport.builder(uri)
        .recoveryInterval(Duration.ofMillis(250))
        .sendTimeout(Duration.ofSeconds(3))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  protected URI brokerUri() {
    return URI.create("rabbitmq://guest:guest@127.0.0.1:5672/" + rabbit.vhost());
  }
}
