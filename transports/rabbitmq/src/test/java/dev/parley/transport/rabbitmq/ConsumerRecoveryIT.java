package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Partitions;
import dev.parley.transport.spi.SendOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer the connection's recovery cannot restore consumes again once it can. amqp-client
 * restores consumers after a reconnect, but when the broker refuses one or does not answer in time
 * (seen after a broker restart: a quorum queue not yet back) it logs the failure and goes on
 * without it, and the queue stays unconsumed for good. Here the refusal is made certain: while the
 * transport is cut off, another client takes the queue with an exclusive consumer.
 */
class ConsumerRecoveryIT {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private final FaultProxy proxy = FaultProxy.to("127.0.0.1", 5672);
  private final RabbitTransport transport =
      RabbitTransport.builder(rabbit.amqpUri(proxy.port()))
          .recoveryInterval(Duration.ofMillis(250))
          .closeTimeout(Duration.ofSeconds(2))
          // Classic: a quorum queue (RabbitMQ 3.10) lets other consumers in beside an exclusive
          // one.
          .queueType(QueueType.CLASSIC)
          .build();

  @AfterEach
  void tearDown() {
    transport.close();
    proxy.close();
  }

  @Test
  void aConsumerTheRecoveryCouldNotRestoreConsumesAgainOnceItCan() throws Exception {
    Destination.Queue queue = new Destination.Queue("recovery.commands");
    Set<String> handled = consumingWhatIsSent(queue);

    long reconnects = transport.reconnects();
    proxy.disable(); // the transport's connections cut; new ones refused for now
    ConnectionFactory factory = new ConnectionFactory();
    factory.setVirtualHost(rabbit.vhost());
    try (com.rabbitmq.client.Connection other = factory.newConnection("blocker")) {
      com.rabbitmq.client.Channel blocker = other.createChannel();
      // Exclusive: while it exists, the broker refuses every other consumer of the queue. (It
      // may take the broker a moment to drop the cut connection's consumer.)
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(
              () -> {
                com.rabbitmq.client.Channel ch = blocker.isOpen() ? blocker : other.createChannel();
                ch.basicConsume(
                    queue.name(), false, "blocker", false, true, null, new DefaultConsumer(ch));
                return true;
              });
      proxy.enable();
      // Both connections recovered: the consuming one has tried to restore the consumer.
      await().atMost(Duration.ofSeconds(20)).until(() -> transport.reconnects() >= reconnects + 2);
      // The fault: after the recovery the blocker is the queue's only consumer.
      assertThat(rabbit.ctl().consumers(rabbit.vhost()))
          .filteredOn(line -> line.trim().startsWith(queue.name() + "\t"))
          .hasSize(1);
    } // the blocker goes away

    for (int i = 0; i < 5; i++) {
      send(queue, "after-" + i);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(handled)
                    .contains("after-0", "after-1", "after-2", "after-3", "after-4"));
  }

  /**
   * A consumer whose channel RabbitMQ closes while the connection stays up consumes again on a new
   * channel. amqp-client recovers channels only with their connection, so such a queue went
   * unconsumed for good (a WARN line was all). The channel error here is an acknowledgement of a
   * delivery tag the channel never gave (406 PRECONDITION_FAILED), as RabbitMQ also closes a
   * channel whose delivery outlived its {@code consumer_timeout}.
   */
  @Test
  void aConsumerWhoseChannelRabbitMqClosedConsumesAgain() {
    Destination.Queue queue = new Destination.Queue("closed.commands");
    Set<String> handled = consumingWhatIsSent(queue);

    com.rabbitmq.client.Channel ch =
        ((AmqpClientTransport) transport).consumerChannel(queue.name());
    try {
      ch.basicAck(999_999, false);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    // The fault: the channel is closed and the queue has no consumer.
    await().atMost(Duration.ofSeconds(10)).until(() -> !ch.isOpen());
    assertThat(transport.isConnected()).isTrue();

    consumesAgain(queue, handled);
  }

  /**
   * A consumer RabbitMQ cancels (its queue deleted under it) consumes again: the consumer watch
   * restarts it on a new channel and the topology check declares the queue again, with its
   * dead-letter arguments; Spring AMQP's listener containers declare missing queues the same way.
   * Before, the transport logged the cancel and the consumer stayed cancelled for good. (An
   * operator declaring the queue back by hand raced the transport's own declaration, whose
   * arguments differ: RabbitMQ refused whichever came second.)
   */
  @Test
  void aConsumerRabbitMqCancelledConsumesAgainOnItsQueueDeclaredAgain() throws Exception {
    Destination.Queue queue = new Destination.Queue("deleted.commands");
    Set<String> handled = consumingWhatIsSent(queue);
    com.rabbitmq.client.Channel before =
        ((AmqpClientTransport) transport).consumerChannel(queue.name());

    asOperator(operator -> operator.queueDelete(queue.name()));

    consumesAgain(queue, handled);
    // The fault happened: RabbitMQ cancelled the consumer, which consumes again on a new channel.
    assertThat(((AmqpClientTransport) transport).consumerChannel(queue.name()))
        .isNotNull()
        .isNotSameAs(before);
  }

  /**
   * A reply queue (temporary: exclusive to the consuming connection, so only an administrator can
   * delete it) deleted under its consumer is declared again and consumed: replies reach it again.
   */
  @Test
  void aReplyQueueDeletedUnderItsConsumerIsDeclaredAgain() {
    Destination.Queue replies = new Destination.Queue("parley.reply.recovery");
    Set<String> handled = consumingWhatIsSent(replies, new ConsumerSettings(1, 10, true), replies);

    rabbit.ctl().run("delete_queue", "-p", rabbit.vhost(), replies.name());

    consumesAgain(replies, handled);
  }

  /**
   * An event channel's exchange deleted under a running service (its group queue's binding goes
   * with it): the publishing side declares the exchange again after RabbitMQ refused a send to it
   * (404 closes the publishing channel), and the topology check binds the group's queue again, so
   * events reach the group again. Before, every send to the channel failed for good (the exchange
   * was taken as declared) and, the exchange declared again by anyone, the group got nothing.
   */
  @Test
  void aChannelsExchangeDeletedUnderARunningServiceIsDeclaredAndBoundAgain() throws Exception {
    Destination.GroupQueue group = new Destination.GroupQueue("dropped.events", "g");
    Destination.Event channel = new Destination.Event(group.channel());
    Set<String> handled = consumingWhatIsSent(group, new ConsumerSettings(1, 10, false), channel);

    asOperator(
        operator -> {
          operator.exchangeDelete(channel.channel());
          // The fault: the exchange is gone (a passive declaration of it is refused). Right after
          // the deletion, on the same connection: the transport's topology check declares it again
          // within seconds.
          assertThatThrownBy(() -> operator.exchangeDeclarePassive(channel.channel()))
              .isInstanceOf(java.io.IOException.class);
        });

    AtomicInteger sent = new AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions() // the first send after the deletion fails: RabbitMQ refuses it
        .until(
            () -> {
              send(channel, "after-" + sent.incrementAndGet()); // at most 120
              return handled.stream().anyMatch(body -> body.startsWith("after-"));
            });
  }

  /**
   * A partition queue of a partitioned group deleted under its member: the topology check declares
   * it again with its binding, and the consumer watch consumes it again, so a key of that partition
   * is handled again.
   */
  @Test
  void aPartitionQueueDeletedUnderItsMemberIsDeclaredAndConsumedAgain() throws Exception {
    Destination.GroupQueue group = new Destination.GroupQueue("deleted.partitioned", "g");
    Set<String> handled = ConcurrentHashMap.newKeySet();
    transport.subscribe(
        group,
        new ConsumerSettings(1, 10, false, true),
        DeliveryHandler.settling(
            d -> {
              handled.add(new String(d.message().payload(), StandardCharsets.US_ASCII));
              return CompletableFuture.completedFuture(null);
            }));
    awaitOwners(group, 1);
    String key = "k0";
    for (int i = 1; Partitions.of(key, 8) != 0; i++) {
      key = "k" + i; // a key of partition 0
    }
    String partition0 = group.queueName() + ".p0";

    asOperator(operator -> operator.queueDelete(partition0));

    String partitionKey = key;
    AtomicInteger sent = new AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              Message event =
                  Message.builder()
                      .header(Headers.PARTITION_KEY, partitionKey)
                      .payload(("p0-" + sent.incrementAndGet()).getBytes(StandardCharsets.US_ASCII))
                      .build();
              transport
                  .send(new Destination.Event(group.channel()), event, SendOptions.NONE)
                  .join();
              return handled.stream().anyMatch(body -> body.startsWith("p0-"));
            });
  }

  /**
   * The publishing half alone (no subscription of the channel on this transport, whose topology
   * check would declare the exchange): the send RabbitMQ refuses for the missing exchange fails,
   * and a later one succeeds, the exchange declared again. Before, every send failed for good.
   */
  @Test
  void aPublisherWhoseExchangeWasDeletedSendsAgain() throws Exception {
    Destination.Event channel = new Destination.Event("unheard.events");
    send(channel, "before");
    asOperator(operator -> operator.exchangeDelete(channel.channel()));
    assertThatThrownBy(() -> send(channel, "refused"))
        .hasCauseInstanceOf(dev.parley.error.TransportException.class)
        .hasMessageContaining("no exchange 'unheard.events'");
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () -> {
              send(channel, "after");
              return true;
            });
  }

  /** Runs {@code action} on a channel of a connection of its own, as an operator would. */
  private static void asOperator(OperatorAction action) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setVirtualHost(rabbit.vhost());
    try (com.rabbitmq.client.Connection other = factory.newConnection("operator")) {
      action.run(other.createChannel());
    }
  }

  @FunctionalInterface
  private interface OperatorAction {
    void run(com.rabbitmq.client.Channel channel) throws Exception;
  }

  /** Within 20 s the queue has one consumer again, which handles a message sent then. */
  private void consumesAgain(Destination.Queue queue, Set<String> handled) {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(consumersOf(queue)).hasSize(1));
    send(queue, "after");
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.contains("after"));
  }

  private static List<String> consumersOf(Destination.Queue queue) {
    return rabbit.ctl().consumers(rabbit.vhost()).stream()
        .filter(line -> line.trim().startsWith(queue.name() + "\t"))
        .toList();
  }

  /** The bodies a consumer of {@code queue} handled, once it has handled a first message. */
  private Set<String> consumingWhatIsSent(Destination.Queue queue) {
    return consumingWhatIsSent(queue, new ConsumerSettings(1, 10, false), queue);
  }

  /**
   * The bodies a subscription of {@code source} handled, once it has handled a first message sent
   * to {@code sendTo} (the queue itself, or a group's channel).
   */
  private Set<String> consumingWhatIsSent(
      Destination source, ConsumerSettings settings, Destination sendTo) {
    Set<String> handled = ConcurrentHashMap.newKeySet();
    transport.subscribe(
        source,
        settings,
        DeliveryHandler.settling(
            d -> {
              handled.add(new String(d.message().payload(), StandardCharsets.US_ASCII));
              return CompletableFuture.completedFuture(null);
            }));
    send(sendTo, "before");
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.contains("before"));
    return handled;
  }

  private void send(Destination destination, String body) {
    transport
        .send(
            destination,
            Message.builder().payload(body.getBytes(StandardCharsets.US_ASCII)).build(),
            SendOptions.NONE)
        .join();
  }

  /**
   * The same for a partitioned group's announcements: the members' inbox (a server-named queue the
   * recovery declares anew) cannot be consumed after the reconnect, because the broker now refuses
   * this user every read of a server-named queue. A member without it hears nobody; once the broker
   * lets it read again it must listen again by itself, or a member joining later and this one would
   * both consume the same partitions.
   */
  @Test
  void aGroupsAnnouncementsTheRecoveryCouldNotRestoreAreHeardAgainOnceTheyCanBe() {
    Destination.GroupQueue group = new Destination.GroupQueue("recovery.events", "g");
    String vhost = rabbit.vhost();
    try (FaultProxy memberProxy = FaultProxy.to("127.0.0.1", 5672);
        RabbitTransport first = memberTransport(memberProxy.port());
        RabbitTransport second = memberTransport(5672)) {
      first.subscribe(
          group,
          new ConsumerSettings(1, 10, false, true),
          DeliveryHandler.settling(d -> CompletableFuture.completedFuture(null)));
      awaitOwners(group, 1);

      long reconnects = first.reconnects();
      memberProxy.disable();
      rabbit.ctl().run("set_permissions", "-p", vhost, "guest", ".*", ".*", "^(?!amq\\.gen-).*");
      try {
        memberProxy.enable();
        await().atMost(Duration.ofSeconds(20)).until(() -> first.reconnects() >= reconnects + 2);
        // The fault: recovered, the member consumes its partitions but no inbox, even after
        // a few of its attempts to listen again.
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(partitionConsumers(group)).hasSize(8));
        await()
            .during(Duration.ofSeconds(2)) // several of its attempts (every 250 ms)
            .atMost(Duration.ofSeconds(20)) // rabbitmqctl takes about a second a call
            .untilAsserted(
                () ->
                    assertThat(inboxConsumers().stream().map(r -> String.join(" ", r)).toList())
                        .isEmpty());
      } finally {
        rabbit.ctl().run("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(inboxConsumers()).hasSize(1));

      second.subscribe(
          group,
          new ConsumerSettings(1, 10, false, true),
          DeliveryHandler.settling(d -> CompletableFuture.completedFuture(null)));
      awaitOwners(group, 2);
    }
  }

  private static RabbitTransport memberTransport(int port) {
    return RabbitTransport.builder(rabbit.amqpUri(port))
        .memberHeartbeat(Duration.ofMillis(300))
        .recoveryInterval(Duration.ofMillis(250))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  /** Consumers of server-named queues: the members' inboxes (nothing else here makes one). */
  private static List<String[]> inboxConsumers() {
    return rabbit.rows("list_consumers", "amq.gen-", "queue_name", "consumer_tag");
  }

  private static List<String[]> partitionConsumers(Destination.GroupQueue group) {
    return rabbit.rows(
        "list_consumers", group.queueName() + ".p", "queue_name", "consumer_tag", "active");
  }

  /** Each of the 8 partitions has one consumer, and {@code members} members share them equally. */
  private static void awaitOwners(Destination.GroupQueue group, int members) {
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              List<String[]> consumers = partitionConsumers(group);
              assertThat(consumers).hasSize(8);
              Map<String, Integer> owned = new HashMap<>();
              for (String[] c : consumers) {
                owned.merge(c[1].substring(0, c[1].lastIndexOf(".p")), 1, Integer::sum);
              }
              assertThat(owned).hasSize(members);
              assertThat(owned.values()).allSatisfy(n -> assertThat(n).isEqualTo(8 / members));
            });
  }
}
