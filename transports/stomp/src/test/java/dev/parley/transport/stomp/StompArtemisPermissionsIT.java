package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md S3 on STOMP against a secured Artemis (the embedded broker with users and
 * per-address grants, as the guide sets it up): a service reaches its own queues, is refused
 * another's with a typed error, and its transport goes on serving.
 */
class StompArtemisPermissionsIT {

  record Ping(String text) {}

  record Pong(String text) {}

  @TempDir static Path dir;
  private static EmbeddedBroker broker;

  @BeforeAll
  static void startABrokerWithUsers() {
    broker =
        EmbeddedBroker.builder()
            .dataDirectory(dir)
            .ephemeralPorts()
            .user("kitchen", "kitchen-secret")
            .user("billing", "billing-secret")
            .allowConsume("kitchen", "kitchen.#", "parley.reply.kitchen.#")
            .allowSend("kitchen", "kitchen.#", "parley.reply.#")
            .allowConsume("billing", "billing.#", "parley.reply.billing.#")
            .allowSend("billing", "billing.#", "kitchen.commands", "parley.reply.#")
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static StompTransport transport(String user, String password) {
    URI base = broker.stompUri();
    return StompTransport.builder(
            URI.create(
                "stomp://" + user + ":" + password + "@" + base.getHost() + ":" + base.getPort()))
        .sendTimeout(Duration.ofSeconds(5))
        .reconnectInterval(Duration.ofMillis(250))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  private static Messaging messaging(String service, StompTransport transport) {
    return Messaging.builder()
        .service(service)
        .transport(transport)
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof ExecutionException || t instanceof CompletionException ? t.getCause() : t;
  }

  @Test
  void aServiceUsesItsOwnQueuesAndIsRefusedOthersWithoutLosingItsTransport() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.commands", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.commands", Ping.class);
    AtomicInteger billingHandled = new AtomicInteger();
    try (StompTransport billingTransport = transport("billing", "billing-secret");
        StompTransport kitchenTransport = transport("kitchen", "kitchen-secret");
        Messaging billing = messaging("billing", billingTransport);
        Messaging kitchen = messaging("kitchen", kitchenTransport)) {
      billing.serve(
          billingCommands,
          (Ping p, MessageContext c) -> {
            billingHandled.incrementAndGet();
            return new Pong("billing");
          });
      kitchen.serve(kitchenCommands, (Ping p, MessageContext c) -> new Pong("kitchen:" + p.text()));
      assertThat(
              billing
                  .request(kitchenCommands, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:1"));

      // consuming another service's queue: refused, typed
      Throwable consume =
          catchThrowable(
              () -> {
                Subscription s =
                    kitchen.serve(
                        billingCommands, (Ping p, MessageContext c) -> new Pong("stolen"));
                s.close();
              });
      System.out.printf("STOMP on a secured Artemis, refused SUBSCRIBE: %s%n", consume);
      // typed, not taken for a lost connection; Artemis's ERROR says "Error creating
      // subscription s2.1" and no more, so it cannot be told apart from other refusals
      assertThat(consume).isInstanceOf(TransportException.class);
      assertThat(((TransportException) consume).status().errorCode())
          .isIn(StompClient.ACCESS_REFUSED, "parley.transport.broker_error");
      assertThat(consume.getMessage()).doesNotContain("kitchen-secret");

      // sending to another service's queue: refused, typed
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      ByteArrayOutputStream brokerLog = new ByteArrayOutputStream();
      PrintStream stderr = System.err;
      Throwable send;
      System.setErr(new PrintStream(brokerLog, true, StandardCharsets.UTF_8));
      try {
        send =
            unwrap(
                catchThrowable(
                    () ->
                        kitchen
                            .send(billingCommands, new Ping("forged"))
                            .get(15, TimeUnit.SECONDS)));
        // Artemis logs an ERROR just after it wrote it: wait for the line
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> brokerLog.toString(StandardCharsets.UTF_8).contains("AMQ339011"));
      } finally {
        System.setErr(stderr);
      }
      String logged = brokerLog.toString(StandardCharsets.UTF_8);
      System.err.print(logged);
      // Artemis logged the ERROR it sent (AMQ332069) without quoting the refused message, whose
      // headers (a request's bearer token among them) it used to print whole
      assertThat(logged)
          .contains("AMQ332069")
          .contains("AMQ339011 Error sending message (the message withheld)")
          .doesNotContain("TypedProperties")
          .doesNotContain("parley-id");
      System.out.printf("STOMP on a secured Artemis, refused SEND: %s%n", send);
      assertThat(send).isInstanceOf(TransportException.class);
      assertThat(((TransportException) send).status().errorCode())
          .isIn(StompClient.ACCESS_REFUSED, "parley.transport.broker_error");
      // Artemis quotes the refused message whole, every header with its value: withheld
      assertThat(send.getMessage()).doesNotContain("parley-id").doesNotContain("TypedProperties");
      assertThat(send.getMessage()).doesNotContain("kitchen-secret");

      // The kitchen's transport goes on: connected, not reconnecting for the refused
      // subscription, and still serving its own queue.
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      long reconnects = kitchenTransport.reconnects();
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> kitchenTransport.reconnects() == reconnects);
      assertThat(
              billing
                  .request(kitchenCommands, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:2"));
      assertThat(billingHandled).hasValue(0);
      System.out.printf(
          "STOMP on a secured Artemis: reconnects after the refusals %d%n", reconnects);
    }
  }

  @Test
  void aWrongPasswordIsRefusedAtOnce() {
    Throwable failure = catchThrowable(() -> transport("kitchen", "wrong").close());
    assertThat(failure).isInstanceOf(TransportException.class);
    assertThat(failure.getMessage()).doesNotContain("wrong@");
    System.out.printf(
        "STOMP on a secured Artemis, wrong password: %s%n",
        ((TransportException) failure).status().errorCode());
  }
}
