package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.parley.codec.Codecs;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.RabbitVhostExtension;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On the real broker, which sends wait for RabbitMQ's publisher confirm: a command does, and fails
 * when RabbitMQ refuses it; a request does not (its reply confirms it), so a refused request fails
 * by its timeout. The refusal: a queue that holds no message and rejects publishes ({@code
 * x-max-length 0}, {@code x-overflow reject-publish}), so every publish into it is nacked.
 */
class ConfirmedSendsIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  public record Ask(String text) {}

  @Test
  void aCommandWaitsForTheConfirmAndARequestForItsReply() throws Exception {
    String queue = "confirms." + UUID.randomUUID().toString().substring(0, 8);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(rabbit.amqpUri());
    try (Connection raw = factory.newConnection("confirms-test");
        RabbitTransport transport = RabbitTransport.builder(rabbit.amqpUri()).build();
        Messaging messaging =
            Messaging.builder()
                .service("confirms")
                .transport(transport)
                .codecs(Codecs.discover())
                .build()) {
      com.rabbitmq.client.Channel ch = raw.createChannel();
      ch.queueDeclare(
          queue, true, false, false, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
      Channel<Ask> commands = Channel.command(queue, Ask.class);

      assertThat(messaging.send(commands, new Ask("refused")))
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(ExecutionException.class)
          .havingCause()
          .isInstanceOf(TransportException.class)
          .satisfies(
              e ->
                  assertThat(((TransportException) e).errorCode())
                      .isEqualTo("parley.transport.nacked"));
      assertThat(
              messaging.request(
                  commands, new Ask("refused too"), Ask.class, Duration.ofMillis(500)))
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(DeadlineExceededException.class);
      assertThat(ch.messageCount(queue)).isZero();
    }
  }
}
