package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Settlement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a RabbitMQ consumer answers requests (issue 17, point 5): the reply goes out on the channel
 * that delivered the request, ahead of its acknowledgement, with no confirm to wait for; while the
 * broker blocks publishing the consumer declines, so the reply takes the confirmed path; a
 * temporary (reply) queue is consumed without acknowledgements.
 */
class RepliesOnTheRequestChannelIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private Connection consuming;
  private Connection raw;
  private com.rabbitmq.client.Channel channel;
  private String prefix;

  @BeforeEach
  void connect() throws Exception {
    prefix = "replies." + UUID.randomUUID().toString().substring(0, 8) + ".";
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(rabbit.amqpUri());
    consuming = factory.newConnection("replies-consumer");
    raw = factory.newConnection("replies-test");
    channel = raw.createChannel();
  }

  @AfterEach
  void close() throws Exception {
    raw.close();
    consuming.close();
  }

  /** A started consumer of {@code queue} on the consuming connection. */
  private QueueConsumer consumer(
      String queue,
      int prefetch,
      boolean temporary,
      BooleanSupplier mayPublish,
      DeliveryHandler handler) {
    QueueConsumer consumer =
        new QueueConsumer(
            consuming,
            queue,
            new Destination.Queue(queue),
            prefetch,
            handler,
            "",
            false,
            temporary,
            mayPublish,
            new java.util.concurrent.ConcurrentHashMap<>(),
            Runnable::run); // no dead-letter queue here: nothing to consume again beside
    consumer.start();
    return consumer;
  }

  @Test
  void theReplyGoesOutOnTheRequestsChannelBeforeItsAcknowledgement() throws Exception {
    String queue = prefix + "commands";
    channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
    String replyQueue = channel.queueDeclare().getQueue(); // amq.gen-…, exclusive to `raw`
    BlockingQueue<com.rabbitmq.client.Delivery> replies = new ArrayBlockingQueue<>(1);
    channel.basicConsume(replyQueue, true, (tag, d) -> replies.add(d), tag -> {});
    AtomicReference<CompletableFuture<Void>> replied = new AtomicReference<>();
    QueueConsumer consumer =
        consumer(
            queue,
            8,
            false,
            () -> true,
            (delivery, settlement) -> {
              Message request = delivery.message();
              Message reply =
                  Message.builder()
                      .header(Headers.CORRELATION_ID, request.id())
                      .header(Headers.CONTENT_TYPE, "text/plain")
                      .payload("pong".getBytes(StandardCharsets.UTF_8))
                      .build();
              CompletableFuture<Void> sent =
                  settlement.replyInOrder(new Destination.Queue(replyQueue), reply);
              replied.set(sent);
              settlement.ack();
            });
    try {
      channel.basicPublish(
          "",
          queue,
          new AMQP.BasicProperties.Builder()
              .deliveryMode(2)
              .messageId("01a20000-0000-7000-8000-0000000000aa")
              .replyTo(replyQueue)
              .build(),
          "ping".getBytes(StandardCharsets.UTF_8));

      com.rabbitmq.client.Delivery reply = replies.poll(30, TimeUnit.SECONDS);
      assertThat(reply).isNotNull();
      assertThat(reply.getProperties().getCorrelationId())
          .isEqualTo("01a20000-0000-7000-8000-0000000000aa");
      assertThat(reply.getProperties().getDeliveryMode()).isEqualTo(1); // transient
      assertThat(new String(reply.getBody(), StandardCharsets.UTF_8)).isEqualTo("pong");
      // Handed over on the consumer's own channel: complete when the handler got it back, with no
      // confirm to wait for.
      assertThat(replied.get()).isNotNull().isCompleted();
      // ...and the request was acknowledged: nothing left, nothing unacknowledged.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> consumer.unsettled() == 0 && channel.messageCount(queue) == 0);
    } finally {
      consumer.stop(Duration.ofSeconds(5));
    }
    assertThat(channel.messageCount(queue)).isZero(); // not requeued when the channel closed
  }

  @Test
  void whileTheBrokerBlocksPublishingTheConsumerLeavesTheReplyToTheConfirmedPath()
      throws Exception {
    String queue = prefix + "blocked";
    channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
    BlockingQueue<Object> outcome = new ArrayBlockingQueue<>(1);
    QueueConsumer consumer =
        consumer(
            queue,
            8,
            false,
            () -> false, // RabbitMQ said connection.blocked
            (delivery, settlement) -> {
              CompletableFuture<Void> sent =
                  settlement.replyInOrder(
                      new Destination.Queue(prefix + "anywhere"),
                      Message.builder().payload(new byte[0]).build());
              outcome.add(sent == null ? "declined" : sent);
              settlement.ack();
            });
    try {
      channel.basicPublish("", queue, null, "x".getBytes(StandardCharsets.UTF_8));
      assertThat(outcome.poll(30, TimeUnit.SECONDS)).isEqualTo("declined");
    } finally {
      consumer.stop(Duration.ofSeconds(5));
    }
  }

  @Test
  void aTemporaryQueueIsConsumedWithoutAcknowledgements() throws Exception {
    String queue = prefix + "temporary";
    channel.queueDeclare(queue, false, false, false, null); // the vhost goes after the class
    List<Settlement> unsettled = new CopyOnWriteArrayList<>();
    // Prefetch 1 and a handler that never settles: with acknowledgements only the first message
    // would come; without them the broker hands over all three and keeps none.
    QueueConsumer consumer =
        consumer(queue, 1, true, () -> true, (delivery, settlement) -> unsettled.add(settlement));
    try {
      for (int i = 0; i < 3; i++) {
        channel.basicPublish("", queue, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> unsettled.size() == 3);
      assertThat(channel.messageCount(queue)).isZero();
      // Settling is a no-op; giving back cannot bring a message back.
      unsettled.get(0).requeue();
      unsettled.forEach(Settlement::ack);
    } finally {
      consumer.stop(Duration.ofSeconds(5));
    }
    assertThat(channel.messageCount(queue)).isZero();
  }
}
