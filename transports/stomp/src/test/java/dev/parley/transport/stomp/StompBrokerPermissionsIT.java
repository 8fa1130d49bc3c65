package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.error.ParleyException;
import dev.parley.error.TransportException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.testing.kit.RabbitVhostExtension;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md S3 on STOMP (RabbitMQ's plugin): a service whose broker user may only use its own
 * queues serves its command queue, and is refused — with a typed error, its transport still working
 * — when it consumes or sends to another service's queue. RabbitMQ answers such a frame with an
 * ERROR and closes the connection: the transport connects again, and must not take the refused
 * subscription with it (it would be refused again, and again).
 */
class StompBrokerPermissionsIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  record Ping(String text) {}

  record Pong(String text) {}

  private static final String USER = "kitchen-" + UUID.randomUUID().toString().substring(0, 8);
  private static final String PASSWORD = UUID.randomUUID().toString();

  @BeforeAll
  static void createTheServicesUser() {
    var ctl = rabbit.ctl();
    if (!ctl.run("list_users", "--silent").contains(USER)) {
      ctl.run("add_user", USER, PASSWORD);
    }
    // the kitchen's queues and reply queues; amq.default to send commands and replies
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

  private static StompTransport transport(String user, String password) {
    return StompTransport.builder(
            URI.create("stomp://" + user + ":" + password + "@127.0.0.1:61613/" + rabbit.vhost()))
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

  @Test
  void aServiceUsesItsOwnQueuesAndIsRefusedOthersWithoutLosingItsTransport() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.commands", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.commands", Ping.class);
    AtomicInteger billingHandled = new AtomicInteger();
    try (StompTransport adminTransport = transport("guest", "guest");
        StompTransport kitchenTransport = transport(USER, PASSWORD);
        Messaging admin = messaging("billing", adminTransport);
        Messaging kitchen = messaging("kitchen", kitchenTransport)) {
      admin.serve(
          billingCommands,
          (Ping p, MessageContext c) -> {
            billingHandled.incrementAndGet();
            return new Pong("billing");
          });
      kitchen.serve(kitchenCommands, (Ping p, MessageContext c) -> new Pong("kitchen:" + p.text()));
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
                        billingCommands, (Ping p, MessageContext c) -> new Pong("stolen"));
                s.close();
              });
      assertThat(consume).isInstanceOf(TransportException.class);
      assertThat(((TransportException) consume).status().errorCode())
          .isEqualTo("parley.stomp.access_refused");
      assertThat(consume.getMessage()).doesNotContain(PASSWORD);

      // sending to another service's queue: refused, typed
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      Throwable send =
          catchThrowable(
              () -> kitchen.send(billingCommands, new Ping("forged")).get(15, TimeUnit.SECONDS));
      Throwable cause =
          send instanceof ExecutionException || send instanceof CompletionException
              ? send.getCause()
              : send;
      assertThat(cause).isInstanceOf(TransportException.class);
      assertThat(((TransportException) cause).status().errorCode())
          .isEqualTo("parley.stomp.access_refused");
      assertThat(cause.getMessage()).doesNotContain(PASSWORD);

      // The kitchen's transport goes on: connected again (each refusal cost a connection), it
      // stays connected — the refused subscription is not taken to the new connection — and
      // still serves its own queue.
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      long reconnects = kitchenTransport.reconnects();
      assertThat(reconnects).as("connections the refusals cost").isPositive();
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> kitchenTransport.reconnects() == reconnects);
      assertThat(
              admin
                  .request(kitchenCommands, new Ping("2"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:2"));
      assertThat(billingHandled).hasValue(0);
    }
  }

  /**
   * Requests to a queue the user may not use: a request goes without a receipt (its reply confirms
   * it), so the broker's refusal, an ERROR that closes the connection, names only the queue. The
   * first costs a connection and waits for its deadline; the transport keeps the queue the refusal
   * names, and the next requests there fail at once, typed, without a connection each. Until
   * 2026-12-07 every one of them closed the connection under every subscription and waited for its
   * deadline.
   */
  @Test
  void requestsToARefusedQueueCostOneConnectionNotOneEach() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.requests", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.requests", Ping.class);
    try (StompTransport adminTransport = transport("guest", "guest");
        StompTransport kitchenTransport = transport(USER, PASSWORD);
        Messaging admin = messaging("billing", adminTransport);
        Messaging kitchen = messaging("kitchen", kitchenTransport)) {
      admin.serve(billingCommands, (Ping p, MessageContext c) -> new Pong("billing"));
      kitchen.serve(kitchenCommands, (Ping p, MessageContext c) -> new Pong("kitchen:" + p.text()));
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      long before = kitchenTransport.reconnects();
      List<String> outcomes = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
        Throwable failed =
            catchThrowable(
                () ->
                    kitchen
                        .request(billingCommands, new Ping("r"), Pong.class, Duration.ofSeconds(2))
                        .get(15, TimeUnit.SECONDS));
        Throwable cause = failed instanceof ExecutionException ? failed.getCause() : failed;
        outcomes.add(
            cause instanceof ParleyException p ? p.status().errorCode() : String.valueOf(cause));
      }
      assertThat(outcomes.subList(1, 5))
          .as("after the first refusal")
          .containsOnly("parley.stomp.access_refused");
      await().atMost(Duration.ofSeconds(15)).until(kitchenTransport::isConnected);
      assertThat(kitchenTransport.reconnects() - before)
          .as("connections the requests cost")
          .isOne();
      assertThat(
              admin
                  .request(kitchenCommands, new Ping("1"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("kitchen:1"));
    }
  }

  /**
   * A permission taken away while the service runs: on the next connection the broker refuses that
   * one subscription, and each refusal would close the connection under all the others. The
   * transport stops that subscription (its messages stay in the broker) and the others go on.
   */
  @Test
  void aSubscriptionTheBrokerNoLongerAllowsStopsAndTheOthersGoOn() throws Exception {
    Channel<Ping> kitchenCommands = Channel.command("kitchen.orders", Ping.class);
    Channel<Ping> kitchenAudit = Channel.command("kitchen.audit", Ping.class);
    Channel<Ping> billingCommands = Channel.command("billing.orders", Ping.class);
    AtomicInteger audited = new AtomicInteger();
    try (StompTransport adminTransport = transport("guest", "guest");
        StompTransport kitchenTransport = transport(USER, PASSWORD);
        Messaging admin = messaging("billing", adminTransport);
        Messaging kitchen = messaging("kitchen", kitchenTransport)) {
      admin.serve(billingCommands, (Ping p, MessageContext c) -> new Pong("billing"));
      kitchen.serve(kitchenCommands, (Ping p, MessageContext c) -> new Pong("kitchen:" + p.text()));
      kitchen.serve(
          kitchenAudit,
          (Ping p, MessageContext c) -> {
            audited.incrementAndGet();
            return new Pong("audited");
          });
      assertThat(
              admin
                  .request(kitchenAudit, new Ping("a"), Pong.class, Duration.ofSeconds(10))
                  .get(15, TimeUnit.SECONDS))
          .isEqualTo(new Pong("audited"));

      // the operator takes kitchen.audit away (configure and read), then the connection drops
      // (here: a refused send, which the broker answers by closing it)
      rabbit
          .ctl()
          .run(
              "set_permissions",
              "-p",
              rabbit.vhost(),
              USER,
              "^(kitchen\\.orders|parley\\.reply\\.kitchen\\..*)$",
              "^(kitchen\\..*|parley\\.reply\\.kitchen\\..*|amq\\.default)$",
              "^(kitchen\\.orders|parley\\.reply\\.kitchen\\..*)$");
      try {
        long before = kitchenTransport.reconnects();
        assertThat(kitchen.send(billingCommands, new Ping("forged")))
            .failsWithin(Duration.ofSeconds(15));
        await().atMost(Duration.ofSeconds(15)).until(() -> kitchenTransport.reconnects() > before);
        // The refused subscription costs one more connection, then the transport stays up.
        await()
            .atMost(Duration.ofSeconds(15))
            .until(() -> kitchenTransport.isConnected() && kitchenTransport.reconnects() > before);
        long settled = kitchenTransport.reconnects();
        await()
            .during(Duration.ofSeconds(2))
            .atMost(Duration.ofSeconds(5))
            .until(() -> kitchenTransport.reconnects() == settled);
        assertThat(settled - before)
            .as("reconnects after the permission went")
            .isLessThanOrEqualTo(3);
        assertThat(
                admin
                    .request(kitchenCommands, new Ping("3"), Pong.class, Duration.ofSeconds(10))
                    .get(15, TimeUnit.SECONDS))
            .isEqualTo(new Pong("kitchen:3"));
        // nobody consumes kitchen.audit any more: a command to it waits in the broker
        admin.send(kitchenAudit, new Ping("waits")).get(15, TimeUnit.SECONDS);
        await()
            .during(Duration.ofSeconds(1))
            .atMost(Duration.ofSeconds(3))
            .until(() -> audited.get() == 1);
      } finally {
        createTheServicesUser();
      }
    }
  }
}
