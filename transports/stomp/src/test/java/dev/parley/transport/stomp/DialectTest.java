package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.Destination;
import java.time.Duration;
import java.util.LinkedHashMap;
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

  @Test
  void aReplyToIsReadAsTheQueueItNames() {
    // What the plugin writes for an AMQP 0-9-1 reply_to or a /temp-queue/, and a STOMP client's
    // own.
    assertThat(Dialect.RabbitMq.replyQueue("/reply-queue/amq.gen-JiQpxnD5dpoN5AlxxxyC3Q"))
        .isEqualTo("amq.gen-JiQpxnD5dpoN5AlxxxyC3Q");
    assertThat(Dialect.RabbitMq.replyQueue("/queue/my.replies")).isEqualTo("my.replies");
    assertThat(Dialect.RabbitMq.replyQueue("/amq/queue/my.replies")).isEqualTo("my.replies");
    // Not a queue: kept as it is, so only an allowed pattern makes it a reply address.
    assertThat(Dialect.RabbitMq.replyQueue("/topic/replies.x")).isEqualTo("/topic/replies.x");
    assertThat(Dialect.RabbitMq.replyQueue("/queue/")).isEqualTo("/queue/");

    assertThat(readReplyTo(new Dialect.RabbitMq(8), "/reply-queue/parley.reply.a.1", null))
        .isEqualTo("parley.reply.a.1");
    assertThat(readReplyTo(new Dialect.RabbitMq(8), "/queue/other", "parley.reply.b.2"))
        .isEqualTo("parley.reply.b.2"); // Parley's line first
    assertThat(readReplyTo(new Dialect.Artemis(), "my.replies", null)).isEqualTo("my.replies");
  }

  /**
   * The reply address {@code dialect} reads from a MESSAGE with STOMP's {@code reply-to} and, if
   * not null, a {@code parley-reply-to} line.
   */
  private static String readReplyTo(Dialect dialect, String replyTo, String parleyReplyTo) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (parleyReplyTo != null) {
      headers.put(Headers.REPLY_TO, parleyReplyTo);
    }
    dialect.readNative(StompFrame.of("MESSAGE", Map.of("reply-to", replyTo)), headers);
    return headers.get(Headers.REPLY_TO);
  }

  @Test
  void aReplyToRabbitMqsOwnReplyQueueIsOnlyAddressedAndTransient() {
    Dialect rabbit = new Dialect.RabbitMq(8);
    for (String name : List.of("amq.gen-JiQpxnD5dpoN5AlxxxyC3Q", "amq.rabbitmq.reply-to.g1h2AA")) {
      assertThat(rabbit.sendHeaders(new Destination.Queue(name), REPLY, Duration.ZERO, false))
          .containsEntry("destination", "/reply-queue/" + name)
          .doesNotContainKey("persistent");
    }
    assertThat(
            rabbit.sendHeaders(
                new Destination.Queue("/exchange/replies/x"), REPLY, Duration.ZERO, false))
        .containsEntry("destination", "/exchange/replies/x");
  }

  /** How Artemis renders an AMQP 1.0 sender's message-id and reply-to over STOMP (wire.md §8.2). */
  @Test
  void artemisRenderingsOfAnAmqpSendersIdAndReplyToAreReadBack() {
    assertThat(Dialect.Artemis.amqpId("ID:AMQP_NO_PREFIX:01a20000-0000-7000-8000-000000000001"))
        .isEqualTo("01a20000-0000-7000-8000-000000000001");
    assertThat(Dialect.Artemis.amqpId("ID:AMQP_UUID:0f1e2d3c-0000-4000-8000-000000000001"))
        .isEqualTo("0f1e2d3c-0000-4000-8000-000000000001");
    assertThat(Dialect.Artemis.amqpId("ID:AMQP_BINARY:0A0B")).isEqualTo("0a0b");
    assertThat(Dialect.Artemis.amqpId("ID:4b2c-1:1:1-7")).isEqualTo("4b2c-1:1:1-7");
    assertThat(Dialect.Artemis.amqpId("plain")).isEqualTo("plain");
    assertThat(Dialect.Artemis.queueName("queue://orders.replies")).isEqualTo("orders.replies");
    assertThat(Dialect.Artemis.queueName("temp-queue://t-1")).isEqualTo("t-1");
    assertThat(Dialect.Artemis.queueName("orders.replies")).isEqualTo("orders.replies");
    assertThat(Dialect.Artemis.queueName("topic://news")).isEqualTo("topic://news");
  }

  @Test
  void quorumQueuesAreDeclaredWhereverTheTransportDeclaresADurableQueueAndNowhereElse() {
    Dialect.RabbitMq quorum = new Dialect.RabbitMq(8, StompTransport.QueueType.QUORUM);
    Destination.GroupQueue group = new Destination.GroupQueue("orders", "billing");
    List<Map<String, String>> durable =
        List.of(
            quorum.sendHeaders(new Destination.Queue("kitchen"), REPLY, Duration.ZERO, true),
            quorum.sendHeaders(group, REPLY, Duration.ofSeconds(5), true), // its delay queue
            quorum.sendHeaders(
                new Destination.Queue("kitchen"), REPLY, Duration.ofSeconds(5), true),
            quorum.subscribeHeaders(new Destination.Queue("kitchen"), 10, false),
            quorum.subscribeHeaders(group, 10, false),
            quorum.partitionHeaders(group, 3, 10));
    assertThat(durable).allSatisfy(h -> assertThat(h).containsEntry("x-queue-type", "quorum"));
    List<Map<String, String>> notDeclared =
        List.of(
            quorum.sendHeaders(group, REPLY, Duration.ZERO, true), // to amq.topic
            quorum.sendHeaders(
                new Destination.Queue("parley.reply.orders.1"), REPLY, Duration.ZERO, false),
            quorum.subscribeHeaders(new Destination.Queue("parley.reply.orders.1"), 10, true));
    assertThat(notDeclared).allSatisfy(h -> assertThat(h).doesNotContainKey("x-queue-type"));
    Dialect.RabbitMq classic = new Dialect.RabbitMq(8);
    assertThat(classic.subscribeHeaders(group, 10, false)).doesNotContainKey("x-queue-type");
    assertThat(classic.sendHeaders(new Destination.Queue("kitchen"), REPLY, Duration.ZERO, true))
        .doesNotContainKey("x-queue-type");
  }
}
