package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.testing.kit.RabbitVhostExtension;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md S3 on RabbitMQ: a service whose broker user may only configure, write and read its
 * own resources (vhost permissions, as docs/guide.md's recipe gives them) serves its command queue
 * and publishes its events, and is refused — with a typed error, its transport still working — when
 * it consumes another service's queue or publishes to another service's event exchange.
 */
class BrokerPermissionsIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  record Ping(String text) {}

  record Pong(String text) {}

  record Event(String text) {}

  private static final String USER = "kitchen-" + UUID.randomUUID().toString().substring(0, 8);
  private static final String PASSWORD = UUID.randomUUID().toString();

  @BeforeAll
  static void createTheServicesUser() {
    var ctl = rabbit.ctl();
    ctl.run("add_user", USER, PASSWORD);
    // the recipe: everything named kitchen.* and the kitchen's reply queues; amq.default to send
    // replies and commands (RabbitMQ checks writes per exchange, see the guide)
    ctl.run(
        "set_permissions",
        "-p",
        rabbit.vhost(),
        USER,
        "^(kitchen\\..*|parley\\.reply\\.kitchen\\..*)$",
        "^(kitchen\\..*|parley\\.reply\\.kitchen\\..*|amq\\.default)$",
        "^(kitchen\\..*|parley\\.reply\\.kitchen\\..*)$");
  }

  @AfterAll
  static void deleteTheUser() {
    rabbit.ctl().run("delete_user", USER);
  }

  private static Messaging messaging(String service, String user, String password) {
    // by URI, so the Messaging owns its transport and closes it (one given to it it would not)
    return Messaging.builder()
        .service(service)
        .brokerUri("rabbitmq://" + user + ":" + password + "@127.0.0.1:5672/" + rabbit.vhost())
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  @Test
  void aServiceUsesItsOwnResourcesAndIsRefusedOthersWithoutLosingItsTransport() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.commands", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.commands", Ping.class);
    Channel<Event> kitchenEvents = Channel.event("kitchen.events", Event.class);
    Channel<Event> billingEvents = Channel.event("billing.events", Event.class);
    AtomicInteger billingHandled = new AtomicInteger();
    try (Messaging admin = messaging("billing", "guest", "guest");
        Messaging kitchen = messaging("kitchen", USER, PASSWORD)) {
      // billing's own queue and exchange exist (billing serves and publishes)
      admin.serve(
          billingCommands,
          (Ping p, dev.parley.messaging.MessageContext c) -> {
            billingHandled.incrementAndGet();
            return new Pong("billing");
          });
      admin.publish(billingEvents, new Event("declares the exchange")).get(10, TimeUnit.SECONDS);
      AtomicInteger kitchenEventsSeen = new AtomicInteger();
      admin.subscribe(kitchenEvents, "audit", (e, c) -> kitchenEventsSeen.incrementAndGet());

      kitchen.serve(
          kitchenCommands,
          (Ping p, dev.parley.messaging.MessageContext c) -> new Pong("kitchen:" + p.text()));
      assertThat(
              admin
                  .request(kitchenCommands, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:1"));

      // consuming another service's queue: refused, typed
      Throwable consume =
          catchThrowable(
              () -> {
                Subscription s =
                    kitchen.serve(
                        billingCommands,
                        (Ping p, dev.parley.messaging.MessageContext c) -> new Pong("stolen"));
                s.close();
              });
      assertThat(consume).isInstanceOf(TransportException.class);
      assertThat(((TransportException) consume).status().errorCode())
          .isEqualTo("parley.rabbitmq.access_refused");
      assertThat(consume.getMessage()).contains("billing.commands").doesNotContain(PASSWORD);

      // publishing to another service's event exchange: refused, typed
      Throwable publish =
          catchThrowable(
              () -> kitchen.publish(billingEvents, new Event("forged")).get(15, TimeUnit.SECONDS));
      Throwable cause =
          publish instanceof java.util.concurrent.ExecutionException
                  || publish instanceof CompletionException
              ? publish.getCause()
              : publish;
      assertThat(cause).isInstanceOf(TransportException.class);
      assertThat(((TransportException) cause).status().errorCode())
          .isEqualTo("parley.rabbitmq.access_refused");

      // and the kitchen's transport goes on: it still serves and publishes its own
      assertThat(
              admin
                  .request(kitchenCommands, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:2"));
      kitchen.publish(kitchenEvents, new Event("ours")).get(15, TimeUnit.SECONDS);
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> kitchenEventsSeen.get() == 1);
      assertThat(billingHandled).hasValue(0);
      assertThat(rabbit.ctl().consumers(rabbit.vhost()))
          .noneMatch(line -> line.startsWith("billing.commands") && line.contains(USER));
    }
  }
}
