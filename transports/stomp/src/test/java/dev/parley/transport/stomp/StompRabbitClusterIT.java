package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Message;
import dev.parley.testing.kit.RabbitCluster;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.testing.kit.SendRun;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RELIABILITY.md M15 on STOMP, the transport's part: a private RabbitMQ cluster of three nodes with
 * the STOMP plugin, the transport given the three nodes ({@link StompTransport.Builder#addresses})
 * and quorum queues ({@link StompTransport.Builder#queueType}), and the node it is connected to —
 * which leads the command queue — killed ({@code kill -9}) in the middle of a paced publish run
 * while a consumer takes the messages. The transport moves to another node with its subscription;
 * every send that got its receipt is consumed, none invented. The queues it declared (command,
 * group, delay, dead-letter) are quorum queues.
 */
class StompRabbitClusterIT {

  /** Sends a second. */
  private static final int RATE = 300;

  private static RabbitCluster cluster;

  @BeforeAll
  static void startCluster() {
    cluster = RabbitCluster.startTemporary(3);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** Each queue of the default vhost with its type. */
  private static Map<String, String> queueTypes() {
    Map<String, String> types = new TreeMap<>();
    for (String line : cluster.ctl().list("list_queues", "name", "type")) {
      String[] columns = line.split("\t");
      if (columns.length == 2) {
        types.put(columns[0], columns[1]);
      }
    }
    return types;
  }

  @Test
  void aKilledNodesConnectionsMoveToAnotherNodeAndNoReceiptedMessageIsLost() throws Exception {
    List<RabbitNode> nodes = cluster.nodes();
    String[] addresses =
        nodes.stream().map(n -> "127.0.0.1:" + n.stompPort()).toArray(String[]::new);
    Destination.Queue queue = new Destination.Queue("stomp.m15.commands");
    Set<String> consumed = ConcurrentHashMap.newKeySet();
    try (StompTransport transport =
        StompTransport.builder(URI.create("stomp://guest:guest@127.0.0.1:1/"))
            .addresses(addresses)
            .queueType(StompTransport.QueueType.QUORUM)
            .sendTimeout(Duration.ofSeconds(3))
            .heartbeat(Duration.ofSeconds(1))
            .reconnectInterval(Duration.ofMillis(250))
            .closeTimeout(Duration.ofSeconds(5))
            .build()) {
      transport.subscribe(
          queue,
          new ConsumerSettings(1, 100, false),
          DeliveryHandler.settling(
              d -> {
                consumed.add(d.message().id());
                return CompletableFuture.completedFuture(null);
              }));
      // A group's queue, a delay queue and a dead-letter queue, declared as this transport does.
      transport.subscribe(
          new Destination.GroupQueue("stomp.m15.events", "billing"),
          new ConsumerSettings(1, 10, false),
          DeliveryHandler.settling(d -> CompletableFuture.completedFuture(null)));
      Message delayed = Message.builder().id("delayed").payload(new byte[] {1}).build();
      assertThat(transport.send(queue, delayed, SendOptions.delayed(Duration.ofMillis(200))))
          .succeedsWithin(Duration.ofSeconds(10));
      assertThat(
              transport.send(
                  new Destination.Queue("stomp.m15.commands.dlq"),
                  Message.builder().payload(new byte[] {2}).build(),
                  SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> consumed.contains("delayed"));
      Map<String, String> types = queueTypes();
      assertThat(types)
          .as("the queues the transport declared")
          .containsEntry("stomp.m15.commands", "quorum")
          .containsEntry("stomp.m15.commands.dlq", "quorum")
          .containsEntry("stomp.m15.events.billing", "quorum")
          .hasEntrySatisfying(
              "parley.delay.200.stomp.m15.commands", t -> assertThat(t).isEqualTo("quorum"));

      RabbitNode connectedTo = nodes.get(0); // the first address, while it answers
      assertThat(connectedTo.ctl().stompConnectionCount()).isPositive();
      RabbitNode leader = cluster.leaderOf("stomp.m15.commands");
      SendRun run =
          SendRun.startPaced(
              transport,
              queue,
              RATE * 120,
              100,
              RATE,
              Duration.ofSeconds(120),
              transport::isConnected);
      await().atMost(Duration.ofSeconds(30)).until(() -> run.confirmed() >= RATE * 2);
      connectedTo.kill();
      await().atMost(Duration.ofSeconds(30)).until(() -> transport.reconnects() >= 1);
      await().atMost(Duration.ofSeconds(30)).until(transport::isConnected);
      int atReconnect = run.confirmed();
      await()
          .atMost(Duration.ofSeconds(60))
          .alias("sends receipted again after the kill")
          .until(() -> run.confirmed() >= atReconnect + RATE * 2);
      run.stop();
      run.await(Duration.ofSeconds(30));
      List<String> receipted = run.confirmedIds();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(consumed).containsAll(receipted));
      Map<String, SendRun.Outcome> outcome = run.outcomes();
      System.out.printf(
          "STOMP cluster kill: leader=%s killed=%s sent=%d receipted=%d failed=%d %s consumed=%d"
              + " reconnects=%d%n",
          leader == null ? "?" : leader.nodeName(),
          connectedTo.nodeName(),
          outcome.size(),
          run.confirmed(),
          run.failed(),
          run.failureCodes(),
          consumed.size(),
          transport.reconnects());
      assertThat(consumed)
          .as("consumed but never sent")
          .allMatch(id -> id.equals("delayed") || outcome.containsKey(id));
      assertThat(
              nodes.get(1).ctl().stompConnectionCount() + nodes.get(2).ctl().stompConnectionCount())
          .as("the transport's connection on another node")
          .isPositive();
      assertThat(run.failureCodes().keySet())
          .as("every failed send failed with a transport error code")
          .isSubsetOf(
              "parley.transport.connection_lost",
              "parley.transport.unavailable",
              dev.parley.transport.spi.Transport.SEND_TIMEOUT);
    }
  }
}
