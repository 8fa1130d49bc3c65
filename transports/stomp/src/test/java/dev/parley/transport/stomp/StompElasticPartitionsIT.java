package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.tck.ElasticPartitionsTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M6 on RabbitMQ's STOMP plugin ({@link ElasticPartitionsTck}): the members share
 * the partitions out through their announcements alone (no single-active-consumer queue keeps two
 * owners apart here), so a kill, a leave and a join each go through the hand-over wait and the
 * members' {@code holds}.
 */
class StompElasticPartitionsIT extends ElasticPartitionsTck {

  private static final int PARTITIONS = 8;
  private static final Duration OWNERSHIP_BOUND = Duration.ofSeconds(20);

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  @Override
  protected Transport newTransport(int port) {
    return StompTransport.builder(
            URI.create("stomp://guest:guest@127.0.0.1:" + port + "/" + rabbit.vhost()))
        .memberHeartbeat(Duration.ofMillis(300))
        .heartbeat(Duration.ofSeconds(2))
        .reconnectInterval(Duration.ofMillis(250))
        .sendTimeout(Duration.ofSeconds(10))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  protected int brokerPort() {
    return 61613;
  }

  /**
   * Asks the broker, not the members: one consumer on each partition queue, and every live member
   * owning some (the plugin keeps one channel per STOMP connection, and each member has its own
   * connection, so a channel stands for a member). A hand-over here waits for the member giving a
   * partition back, so this takes a few member heartbeats.
   */
  @Override
  protected void awaitOneOwnerPerPartition(Destination.GroupQueue group, int slots, int members) {
    await()
        .atMost(OWNERSHIP_BOUND)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              Map<String, List<String[]>> byQueue =
                  rabbit.consumersByQueue(group.queueName() + ".p", "channel_pid");
              assertThat(byQueue).hasSize(PARTITIONS);
              byQueue.forEach((queue, owners) -> assertThat(owners).as(queue).hasSize(1));
              assertThat(byQueue.values().stream().map(owners -> owners.get(0)[0]).distinct())
                  .as("members owning partitions")
                  .hasSize(Math.min(members, PARTITIONS));
            });
  }

  @Override
  protected String brokerState(Destination.GroupQueue group) {
    String prefix = group.queueName() + ".p";
    StringBuilder out = new StringBuilder();
    table(
        out,
        "queues (name, ready, unacknowledged, consumers)",
        "list_queues",
        prefix,
        "name",
        "messages_ready",
        "messages_unacknowledged",
        "consumers");
    table(
        out,
        "consumers (queue, channel, tag, prefetch)",
        "list_consumers",
        prefix,
        "queue_name",
        "channel_pid",
        "consumer_tag",
        "prefetch_count");
    // Where unacknowledged messages sit: a channel holds them, with or without a consumer left.
    table(
        out,
        "channels (pid, connection, number, unacknowledged, consumers)",
        "list_channels",
        "<",
        "pid",
        "connection",
        "number",
        "messages_unacknowledged",
        "consumer_count");
    table(
        out,
        "connections (pid, peer port, state, heartbeat)",
        "list_connections",
        "<",
        "pid",
        "peer_port",
        "state",
        "timeout");
    return out.toString();
  }

  /** Appends the rows of a {@code rabbitmqctl} listing under {@code title}. */
  private static void table(
      StringBuilder out, String title, String command, String prefix, String... columns) {
    out.append(out.length() == 0 ? "" : "\n").append(title).append(':');
    for (String[] row : rabbit.rows(command, prefix, columns)) {
      out.append("\n  ").append(String.join(" ", row));
    }
  }
}
