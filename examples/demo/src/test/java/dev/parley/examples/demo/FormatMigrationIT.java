package dev.parley.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.protobuf.ProtobufCodec;
import dev.parley.codec.protobuf.ProtobufJsonCodec;
import dev.parley.examples.demo.proto.OrderPlaced;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A live channel switches format from JSON (protobuf's JSON mapping) to binary protobuf while its
 * consumers run: first only old producers, then old and new side by side (a rolling deployment),
 * then only new ones. Consumers pick the decoder by each message's content type: nothing is lost,
 * nothing misread, nothing dead-lettered.
 */
@Timeout(120)
class FormatMigrationIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static final Channel<OrderPlaced> ORDERS =
      Channel.event("migration.orders", OrderPlaced.class);
  private static final int PER_PHASE = 100;

  @Test
  void switchesFromJsonToProtobufWithoutLossOrMisreads() {
    Map<Integer, OrderPlaced> received = new ConcurrentHashMap<>();
    Map<String, Integer> contentTypes = new ConcurrentHashMap<>();
    List<Message> deadLetters = new CopyOnWriteArrayList<>();
    int duplicates;
    try (Messaging consumer =
            messaging("billing", Codecs.of(ProtobufCodec.of(), ProtobufJsonCodec.of()));
        Messaging oldProducer = messaging("orders-v1", Codecs.of(ProtobufJsonCodec.of()));
        Messaging newProducer =
            messaging("orders-v2", Codecs.of(ProtobufCodec.of(), ProtobufJsonCodec.of()))) {
      List<Integer> seen = new CopyOnWriteArrayList<>();
      consumer.subscribe(
          ORDERS,
          "billing",
          (OrderPlaced o, MessageContext ctx) -> {
            seen.add(o.getSeq());
            received.put(o.getSeq(), o);
            contentTypes.merge(ctx.message().headers().get(Headers.CONTENT_TYPE), 1, Integer::sum);
          },
          consumer.defaultSubscriptionOptions().withConcurrency(2));
      consumer.subscribeDeadLetters(ORDERS, "billing", deadLetters::add);

      publish(oldProducer, 0, PER_PHASE);
      List<CompletableFuture<Message>> rolling = new ArrayList<>();
      for (int i = 0; i < PER_PHASE; i++) {
        rolling.add(oldProducer.publish(ORDERS, order(PER_PHASE + 2 * i)));
        rolling.add(newProducer.publish(ORDERS, order(PER_PHASE + 2 * i + 1)));
      }
      CompletableFuture.allOf(rolling.toArray(CompletableFuture[]::new)).join();
      publish(newProducer, 3 * PER_PHASE, 4 * PER_PHASE);

      await().atMost(Duration.ofSeconds(60)).until(() -> received.size() == 4 * PER_PHASE);
      duplicates = seen.size() - received.size();
    }

    assertThat(received.values()).allSatisfy(o -> assertThat(o).isEqualTo(order(o.getSeq())));
    assertThat(contentTypes).containsOnlyKeys("application/json", "application/x-protobuf");
    assertThat(contentTypes.get("application/json")).isEqualTo(2 * PER_PHASE);
    assertThat(contentTypes.get("application/x-protobuf")).isEqualTo(2 * PER_PHASE);
    assertThat(deadLetters).isEmpty();
    assertThat(duplicates).isZero();
  }

  private static Messaging messaging(String service, Codecs codecs) {
    return Messaging.builder()
        .service(service)
        .brokerUri(broker.amqpUri().toString())
        .codecs(codecs)
        .build();
  }

  private static void publish(Messaging producer, int from, int to) {
    CompletableFuture.allOf(
            java.util.stream.IntStream.range(from, to)
                .mapToObj(i -> producer.publish(ORDERS, order(i)))
                .collect(Collectors.toList())
                .toArray(CompletableFuture[]::new))
        .join();
  }

  private static OrderPlaced order(int seq) {
    return OrderPlaced.newBuilder()
        .setOrderId("o-" + seq)
        .setSeq(seq)
        .setDish("dish " + seq)
        .setTotalCents(100L * seq)
        .build();
  }
}
