package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The SEND headers each dialect writes (docs/wire.md section 8). */
class DialectTest {

  private static final List<Dialect> DIALECTS =
      List.of(new Dialect.Artemis(), new Dialect.RabbitMq(8));

  private static final Message REPLY =
      Message.builder()
          .header(Headers.CORRELATION_ID, "01a20000-0000-7000-8000-000000000001")
          .header(Headers.CONTENT_TYPE, "application/json")
          .build();

  @Test
  void aReplyToAParleyReplyQueueHasNoPersistentLine() {
    for (Dialect dialect : DIALECTS) {
      Map<String, String> h =
          dialect.sendHeaders(
              new Destination.Queue("parley.reply.orders.1"), REPLY, Duration.ZERO, false);
      // Both brokers take a message without the line as transient; the line would cost them work.
      assertThat(h).as(dialect.name()).doesNotContainKey("persistent");
    }
  }

  @Test
  void aPersistentMessageSaysSo() {
    for (Dialect dialect : DIALECTS) {
      Map<String, String> h =
          dialect.sendHeaders(new Destination.Queue("kitchen"), REPLY, Duration.ZERO, true);
      assertThat(h).as(dialect.name()).containsEntry("persistent", "true");
    }
  }

  @Test
  void aReplyToAForeignQueueOnRabbitMqStaysPersistent() {
    // The plugin reads "persistent" also as the durability of the /queue/ it declares.
    Map<String, String> h =
        new Dialect.RabbitMq(8)
            .sendHeaders(new Destination.Queue("my.replies"), REPLY, Duration.ZERO, false);
    assertThat(h)
        .containsEntry("destination", "/queue/my.replies")
        .containsEntry("persistent", "true");
  }
}
