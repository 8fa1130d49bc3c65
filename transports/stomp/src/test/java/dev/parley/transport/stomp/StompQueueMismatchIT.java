package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.TransportException;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Partitions;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.TransportSubscription;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A command queue that already exists with other arguments than the STOMP plugin declares (an
 * operator's quorum queue, or one the AMQP 0-9-1 transport made): RabbitMQ answers the SUBSCRIBE
 * with an ERROR ({@code precondition_failed}, "inequivalent arg 'x-queue-type'") and then still
 * sends its RECEIPT before it closes the connection; a SEND to it gets the same ERROR, then the
 * connection closes. Serving it must fail with a typed error naming the reason ({@code
 * parley.transport.topology}, as on the RabbitMQ transport) rather than return a subscription that
 * receives nothing, a send to it must fail typed, and the transport's other subscriptions go on.
 */
class StompQueueMismatchIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  record Ping(String text) {}

  record Pong(String text) {}

  private static StompTransport transport() {
    return transport(Duration.ofMillis(250));
  }

  private static StompTransport transport(Duration reconnectInterval) {
    return builder().reconnectInterval(reconnectInterval).build();
  }

  private static StompTransport.Builder builder() {
    return StompTransport.builder(
            URI.create("stomp://guest:guest@127.0.0.1:61613/" + rabbit.vhost()))
        .sendTimeout(Duration.ofSeconds(5))
        .memberHeartbeat(Duration.ofMillis(300))
        .closeTimeout(Duration.ofSeconds(2));
  }

  private static Messaging messaging(String service, StompTransport transport) {
    return Messaging.builder()
        .service(service)
        .transport(transport)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  /** Declares {@code queue} as a quorum queue through the plugin (its x-queue-type header). */
  private static void declareQuorumQueue(String queue) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", 61613)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      StompFrameReader in = new StompFrameReader(socket.getInputStream(), 1024 * 1024);
      out.write(
          StompFrame.of(
                  "CONNECT",
                  Map.of(
                      "accept-version", "1.2",
                      "host", rabbit.vhost(),
                      "login", "guest",
                      "passcode", "guest",
                      "heart-beat", "0,0"))
              .encode());
      assertThat(in.read().command()).isEqualTo("CONNECTED");
      out.write(
          StompFrame.of(
                  "SUBSCRIBE",
                  Map.of(
                      "id", "1",
                      "destination", "/queue/" + queue,
                      "durable", "true",
                      "x-queue-type", "quorum",
                      "receipt", "r1"))
              .encode());
      StompFrame answer = in.read();
      assertThat(answer.command()).as(answer.headers().toString()).isEqualTo("RECEIPT");
      out.write(StompFrame.of("DISCONNECT", Map.of()).encode());
    }
  }

  @Test
  void aQueueDeclaredWithOtherArgumentsIsRefusedTypedAndTheTransportGoesOn() throws Exception {
    Channel<Ping> quorum = Channel.command("mismatch.quorum", Ping.class);
    Channel<Ping> own = Channel.command("mismatch.own", Ping.class);
    declareQuorumQueue("mismatch.quorum");
    try (StompTransport callerTransport = transport();
        StompTransport serviceTransport = transport();
        Messaging caller = messaging("caller", callerTransport);
        Messaging service = messaging("service", serviceTransport)) {
      service.serve(own, (Ping p, MessageContext c) -> new Pong("own:" + p.text()));
      assertThat(
              caller
                  .request(own, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("own:1"));

      Throwable consume =
          catchThrowable(
              () -> {
                Subscription s =
                    service.serve(quorum, (Ping p, MessageContext c) -> new Pong("quorum"));
                s.close();
              });
      assertThat(consume).isInstanceOf(TransportException.class);
      assertThat(((TransportException) consume).status().errorCode())
          .isEqualTo("parley.transport.topology");
      assertThat(consume.getMessage()).contains("precondition_failed").contains("mismatch.quorum");

      // The plugin closes the connection right after that RECEIPT: the transport connects again
      // (without the refused subscription).
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> serviceTransport.reconnects() > 0 && serviceTransport.isConnected());
      // A request there (sent without a receipt) fails at once: the transport remembers the
      // queue the refused SUBSCRIBE named. Written, it would only make the broker close the
      // connection, and wait for its deadline.
      Throwable request =
          catchThrowable(
              () ->
                  service
                      .request(quorum, new Ping("r"), Pong.class, Duration.ofSeconds(30))
                      .get(5, TimeUnit.SECONDS));
      assertThat(request).hasCauseInstanceOf(TransportException.class);
      assertThat(((TransportException) request.getCause()).status().errorCode())
          .isEqualTo("parley.transport.topology");
      // So does a send.
      Throwable send =
          catchThrowable(() -> service.send(quorum, new Ping("x")).get(15, TimeUnit.SECONDS));
      Throwable cause =
          send instanceof ExecutionException || send instanceof CompletionException
              ? send.getCause()
              : send;
      assertThat(cause).isInstanceOf(TransportException.class);
      assertThat(((TransportException) cause).status().errorCode())
          .isEqualTo("parley.transport.topology");
      assertThat(cause.getMessage()).contains("mismatch.quorum");

      // The service's transport goes on: connected again, it stays connected and serves.
      await().atMost(Duration.ofSeconds(15)).until(serviceTransport::isConnected);
      long reconnects = serviceTransport.reconnects();
      // Sends there fail at once for a while, without costing the connection again.
      for (int i = 0; i < 5; i++) {
        Throwable again =
            catchThrowable(() -> service.send(quorum, new Ping("again")).get(5, TimeUnit.SECONDS));
        assertThat(again).hasCauseInstanceOf(TransportException.class);
        assertThat(((TransportException) again.getCause()).status().errorCode())
            .isEqualTo("parley.transport.topology");
        assertThat(again.getCause().getMessage()).contains("not sent");
      }
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> serviceTransport.reconnects() == reconnects);
      assertThat(
              caller
                  .request(own, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("own:2"));
    }
  }

  /**
   * A queue the service consumes, deleted and declared again as a quorum queue while it runs: the
   * plugin cancels the subscription, and the transport's new connection would subscribe it again,
   * be refused and lose that connection — under every other subscription, on every reconnect, for
   * good. The refused subscription stops there (its messages stay in the broker); the others go on.
   */
  @Test
  void aQueueDeclaredAgainWithOtherArgumentsStopsOnlyItsSubscription() throws Exception {
    Channel<Ping> changed = Channel.command("mismatch.changed", Ping.class);
    Channel<Ping> own = Channel.command("mismatch.stays", Ping.class);
    AtomicInteger changedHandled = new AtomicInteger();
    try (StompTransport callerTransport = transport();
        StompTransport serviceTransport =
            transport(Duration.ofSeconds(2)); // time to declare it again first
        Messaging caller = messaging("caller", callerTransport);
        Messaging service = messaging("service", serviceTransport)) {
      service.serve(own, (Ping p, MessageContext c) -> new Pong("own:" + p.text()));
      service.serve(
          changed,
          (Ping p, MessageContext c) -> {
            changedHandled.incrementAndGet();
            return new Pong("changed");
          });
      assertThat(
              caller
                  .request(changed, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("changed"));

      rabbit.ctl().run("delete_queue", "-p", rabbit.vhost(), "mismatch.changed");
      declareQuorumQueue("mismatch.changed");

      // The cancel costs a connection, the refused restore one more; then the transport stays up.
      await()
          .atMost(Duration.ofSeconds(20))
          .alias("connected again after the cancel and the refused restore (not flapping)")
          .until(() -> serviceTransport.reconnects() >= 2 && serviceTransport.isConnected());
      long settled = serviceTransport.reconnects();
      await()
          .during(Duration.ofSeconds(5))
          .atMost(Duration.ofSeconds(10))
          .until(() -> serviceTransport.reconnects() == settled);
      assertThat(settled).as("reconnects after the queue changed").isLessThanOrEqualTo(3);
      assertThat(
              caller
                  .request(own, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("own:2"));
      assertThat(changedHandled).hasValue(1);
    }
  }

  /**
   * A partition queue that exists with other arguments: the group cannot take that partition and
   * tries again every heartbeat, and each refused SUBSCRIBE closes the connection under every other
   * partition's consumer. The refused partition is not tried again for a while; the others are
   * consumed.
   */
  @Test
  void aPartitionQueueWithOtherArgumentsIsLeftAndTheOthersAreConsumed() throws Exception {
    String channel = "mismatch.parts." + Long.toHexString(System.nanoTime());
    Destination.GroupQueue group = new Destination.GroupQueue(channel, "g");
    declareQuorumQueue(group.queueName() + ".p0");
    Map<String, Boolean> handled = new ConcurrentHashMap<>();
    try (StompTransport producer = transport();
        StompTransport member = transport()) {
      TransportSubscription subscription =
          member.subscribe(
              group,
              new ConsumerSettings(1, 10, false, true),
              DeliveryHandler.settling(
                  d -> {
                    handled.put(new String(d.message().payload(), StandardCharsets.US_ASCII), true);
                    return CompletableFuture.completedFuture(null);
                  }));
      try {
        List<String> keys = new ArrayList<>();
        for (int k = 0; keys.size() < 7; k++) {
          String key = "k" + k;
          if (Partitions.of(key, 8) != 0) {
            keys.add(key);
          }
        }
        // The partitions but p0 are consumed, whatever the refusal cost before.
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  for (String key : keys) {
                    Message m =
                        Message.builder()
                            .header(Headers.PARTITION_KEY, key)
                            .payload(key.getBytes(StandardCharsets.US_ASCII))
                            .build();
                    producer
                        .send(new Destination.Event(channel), m, SendOptions.NONE)
                        .get(5, TimeUnit.SECONDS);
                  }
                  assertThat(handled.keySet()).containsAll(keys);
                });
        long reconnects = member.reconnects();
        assertThat(reconnects).as("connections the refusal cost").isLessThanOrEqualTo(2);
        await()
            .during(Duration.ofSeconds(5))
            .atMost(Duration.ofSeconds(8))
            .until(() -> member.reconnects() == reconnects && member.isConnected());
      } finally {
        subscription.close();
      }
    }
  }
}
