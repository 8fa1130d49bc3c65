package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.parley.broker.embedded.EmbeddedBroker;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.ParleyException;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md S3 on the embedded Artemis: with users configured, a connection without valid
 * credentials is refused, and a service may consume only its own queues and send only where
 * allowed; a refusal is a typed error and the service's transport goes on.
 */
class BrokerPermissionsIT {

  record Ping(String text) {}

  record Pong(String text) {}

  record Event(String text) {}

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
            .allowConsume("billing", "billing.#", "kitchen.events", "parley.reply.billing.#")
            .allowSend("billing", "billing.#", "kitchen.commands", "parley.reply.#")
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static Messaging messaging(String service, String user, String password) {
    URI base = broker.amqpUri();
    String credentials = user == null ? "" : user + ":" + password + "@";
    // by URI, so the Messaging owns its transport and closes it (one given to it it would not)
    return Messaging.builder()
        .service(service)
        .brokerUri("amqp://" + credentials + base.getHost() + ":" + base.getPort())
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException
        ? t.getCause()
        : t;
  }

  @Test
  void eachServiceReachesOnlyWhatItWasAllowed() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.commands", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.commands", Ping.class);
    Channel<Event> kitchenEvents = Channel.event("kitchen.events", Event.class);
    Channel<Event> billingEvents = Channel.event("billing.events", Event.class);
    AtomicInteger billingHandled = new AtomicInteger();
    AtomicInteger kitchenEventsSeen = new AtomicInteger();
    try (Messaging billing = messaging("billing", "billing", "billing-secret");
        Messaging kitchen = messaging("kitchen", "kitchen", "kitchen-secret")) {
      billing.serve(
          billingCommands,
          (Ping p, MessageContext c) -> {
            billingHandled.incrementAndGet();
            return new Pong("billing");
          });
      billing.subscribe(kitchenEvents, "billing", (e, c) -> kitchenEventsSeen.incrementAndGet());
      kitchen.serve(kitchenCommands, (Ping p, MessageContext c) -> new Pong("kitchen:" + p.text()));

      assertThat(
              billing
                  .request(kitchenCommands, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:1"));

      // the kitchen may not consume billing's queue
      Throwable consume =
          catchThrowable(
              () -> {
                Subscription s =
                    kitchen.serve(billingCommands, (Ping p, MessageContext c) -> new Pong("x"));
                s.close();
              });
      assertThat(consume).isInstanceOf(TransportException.class);
      assertThat(((ParleyException) consume).status().errorCode())
          .isEqualTo("parley.amqp.access_refused");
      // nor send to billing's addresses
      Throwable send =
          unwrap(
              catchThrowable(
                  () ->
                      kitchen
                          .publish(billingEvents, new Event("forged"))
                          .get(15, TimeUnit.SECONDS)));
      assertThat(send).isInstanceOf(TransportException.class);
      assertThat(((ParleyException) send).status().errorCode())
          .isEqualTo("parley.amqp.access_refused");
      Throwable command =
          unwrap(
              catchThrowable(
                  () ->
                      kitchen.send(billingCommands, new Ping("forged")).get(15, TimeUnit.SECONDS)));
      assertThat(((ParleyException) command).status().errorCode())
          .isEqualTo("parley.amqp.access_refused");

      // and goes on: it serves and publishes its own
      assertThat(
              billing
                  .request(kitchenCommands, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:2"));
      kitchen.publish(kitchenEvents, new Event("ours")).get(15, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(15)).until(() -> kitchenEventsSeen.get() == 1);
      assertThat(billingHandled).hasValue(0);
    }
  }

  @Test
  void aConnectionWithoutValidCredentialsIsRefused() {
    for (String[] credentials : new String[][] {{null, null}, {"kitchen", "wrong"}}) {
      Throwable failure =
          catchThrowable(
              () -> {
                try (Messaging m = messaging("anonymous", credentials[0], credentials[1])) {
                  m.publish(Channel.event("kitchen.events", Event.class), new Event("x"))
                      .get(15, TimeUnit.SECONDS);
                }
              });
      Throwable cause = unwrap(failure);
      assertThat(cause).as(String.valueOf(credentials[0])).isInstanceOf(TransportException.class);
      assertThat(((ParleyException) cause).status().errorCode())
          .isEqualTo("parley.amqp.authentication_failed");
      assertThat(cause.getMessage()).doesNotContain("wrong");
    }
  }
}
