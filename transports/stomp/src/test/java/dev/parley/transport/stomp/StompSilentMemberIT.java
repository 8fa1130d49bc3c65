package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.kit.Toxic;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A member of a partitioned group that falls silent without its connection closing (a network
 * partition: every byte blackholed) keeps, at the broker, the messages it had not acknowledged
 * until RabbitMQ gives up on its connection (missed heart-beats). The other members drop it after
 * three member heartbeats; taking its partitions then would hand them a key's later messages while
 * the broker still holds its earlier ones, which come back after them.
 */
class StompSilentMemberIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static final Duration MEMBER_HEARTBEAT = Duration.ofMillis(300);
  private static final int KEYS = 40;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private StompTransport transport(int port, Duration heartbeat) {
    StompTransport t =
        StompTransport.builder(
                URI.create("stomp://guest:guest@127.0.0.1:" + port + "/" + rabbit.vhost()))
            .memberHeartbeat(MEMBER_HEARTBEAT)
            .heartbeat(heartbeat)
            .reconnectInterval(Duration.ofMillis(250))
            .closeTimeout(Duration.ofSeconds(1))
            .build();
    closeables.add(t);
    return t;
  }

  /**
   * Heart-beats of {@code heartbeatMillis} both ways. RabbitMQ checks for the client's bytes every
   * whole second of it, at least one (250 ms: every second, answered {@code heart-beat:1000,1000}),
   * and gives up at the third check without any: a hold of a few of the offered intervals (as until
   * December 2026, four) ends before then when the offer is under a second.
   */
  @ParameterizedTest(name = "heart-beat {0} ms")
  @ValueSource(ints = {2000, 250})
  void aSilentMembersPartitionsAreTakenOnlyOnceTheBrokerGaveItsMessagesBack(int heartbeatMillis) {
    Duration heartbeat = Duration.ofMillis(heartbeatMillis);
    String channel = "silent." + Long.toHexString(System.nanoTime());
    Destination.GroupQueue group = new Destination.GroupQueue(channel, "g");
    StompTransport producer = transport(61613, heartbeat);
    FaultProxy proxy = FaultProxy.to("127.0.0.1", 61613);
    closeables.add(proxy);

    // The member that will fall silent: it holds every message it gets, unacknowledged.
    StompTransport silent = transport(proxy.port(), heartbeat);
    List<String> heldBySilent = new CopyOnWriteArrayList<>();
    TransportSubscription silentMember =
        silent.subscribe(
            group,
            new ConsumerSettings(1, 10, false, true),
            (delivery, settlement) -> heldBySilent.add(body(delivery.message())));
    closeables.add(silentMember::close);

    // The member that stays: it records, per key, the sequence numbers in the order it handles
    // them.
    Map<String, List<Integer>> handled = new ConcurrentHashMap<>();
    long[] firstReturned = {0};
    StompTransport staying = transport(61613, heartbeat);
    TransportSubscription stayingMember =
        staying.subscribe(
            group,
            new ConsumerSettings(1, 10, false, true),
            DeliveryHandler.settling(
                d -> {
                  String[] kv = body(d.message()).split(":");
                  if (d.deliveryCount() > 1 && firstReturned[0] == 0) {
                    firstReturned[0] = System.nanoTime(); // the silent member's, given back
                  }
                  handled
                      .computeIfAbsent(kv[0], k -> new CopyOnWriteArrayList<>())
                      .add(Integer.parseInt(kv[1]));
                  return CompletableFuture.completedFuture(null);
                }));
    closeables.add(stayingMember::close);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> rabbit.consumersByQueue(group.queueName() + ".p").size() == 8);

    publish(producer, channel, 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> !heldBySilent.isEmpty());
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> heldBySilent.size() + handled.size() == KEYS);
    List<String> held = List.copyOf(heldBySilent);

    proxy.add(Toxic.timeout(Toxic.Direction.BOTH)); // silent, its connection open
    long silencedAt = System.nanoTime();
    // The staying member drops it and takes its partitions; the broker still holds what it had.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                rabbit.consumersByQueue(group.queueName() + ".p", "channel_pid").values().stream()
                    .allMatch(c -> c.size() == 1));
    publish(producer, channel, 2);

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(handled.values().stream().mapToInt(List::size).sum())
                    .isGreaterThanOrEqualTo(2 * KEYS));
    System.out.printf(
        "held by the silent member: %d; the first given back handled %d ms after it fell silent,"
            + " all %d ms after%n",
        held.size(),
        (firstReturned[0] - silencedAt) / 1_000_000,
        (System.nanoTime() - silencedAt) / 1_000_000);
    for (String h : held) {
      String key = h.split(":")[0];
      assertThat(handled.get(key)).as(key + "'s sequence numbers as handled").startsWith(1, 2);
    }
  }

  private static void publish(StompTransport producer, String channel, int seq) {
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    for (int k = 0; k < KEYS; k++) {
      Message m =
          Message.builder()
              .header(Headers.PARTITION_KEY, "k" + k)
              .payload(("k" + k + ":" + seq).getBytes(StandardCharsets.US_ASCII))
              .build();
      sends.add(producer.send(new Destination.Event(channel), m, SendOptions.NONE));
    }
    CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
  }

  private static String body(Message m) {
    return new String(m.payload(), StandardCharsets.US_ASCII);
  }
}
