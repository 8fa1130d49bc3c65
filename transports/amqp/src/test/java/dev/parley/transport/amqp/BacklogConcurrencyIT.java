package dev.parley.transport.amqp;

import static org.awaitility.Awaitility.await;

import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Subscription;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A subscription with concurrency > 1 that opens on a queue already holding a backlog handles the
 * whole backlog. It used to stall after one prefetch (concurrency 4, prefetch 10: 15 of 40), on
 * partitioned channels every time and on plain ones now and then. The cause was the embedded
 * broker's {@code default-group-rebalance} with {@code group-rebalance-pause-dispatch}: every
 * consumer that attaches pauses the queue's dispatch until nothing is in flight, but Artemis looks
 * again only when it next tries to deliver (new credit, a new message), not when the last in-flight
 * message is acknowledged; once Qpid JMS had already topped up its credit, nothing woke the queue.
 * Group rebalancing is off now (wire.md §4): a key stays with its consumer until that consumer
 * leaves, so nothing pauses.
 */
class BacklogConcurrencyIT {
  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  record Cmd(String key, int n) {}

  /** A Messaging that owns its transport: it closes it when it closes (it was given one before). */
  Messaging messaging(String name) {
    return Messaging.builder()
        .service(name)
        .brokerUri(broker.amqpUri().toString())
        .codecs(Codecs.of(JsonCodec.of()))
        .build();
  }

  @Test
  void unpartitioned() throws Exception {
    run(Channel.command("probe3.cmds", Cmd.class), 4, "unpartitioned c4");
  }

  @Test
  void unpartitionedPrefetch3() throws Exception {
    prefetch = 3;
    run(Channel.command("probe6.cmds", Cmd.class), 4, "unpartitioned c4 p3");
  }

  int prefetch = 10;

  @Test
  void partitionedOneConsumer() throws Exception {
    run(Channel.command("probe4.cmds", Cmd.class).withPartitionKey(Cmd::key), 1, "partitioned c1");
  }

  @Test
  void partitionedFour() throws Exception {
    run(Channel.command("probe5.cmds", Cmd.class).withPartitionKey(Cmd::key), 4, "partitioned c4");
  }

  void run(Channel<Cmd> ch, int concurrency, String label) throws Exception {
    Set<Integer> seen = ConcurrentHashMap.newKeySet();
    try (Messaging p = messaging("b")) {
      try (Messaging m = messaging("a")) {
        Subscription s =
            m.serve(
                ch,
                (Cmd c, dev.parley.messaging.MessageContext ctx) -> {
                  seen.add(c.n());
                  return null;
                },
                m.defaultSubscriptionOptions().withConcurrency(concurrency));
        for (int i = 0; i < 5; i++) p.send(ch, new Cmd("k" + i, i)).join();
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 5);
      }
      for (int i = 5; i < 40; i++) p.send(ch, new Cmd("k" + i, i)).join();
      try (Messaging m2 = messaging("a")) {
        m2.serve(
            ch,
            (Cmd c, dev.parley.messaging.MessageContext ctx) -> {
              seen.add(c.n());
              return null;
            },
            m2.defaultSubscriptionOptions().withConcurrency(concurrency).withPrefetch(prefetch));
        try {
          await().atMost(Duration.ofSeconds(8)).until(() -> seen.size() == 40);
        } finally {
          System.out.println("PROBE " + label + " seen " + seen.size());
        }
      }
    }
  }
}
