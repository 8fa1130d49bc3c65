package dev.parley.transport.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.RabbitVhostExtension;
import dev.parley.testing.tck.ElasticPartitionsTck;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Transport;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * RELIABILITY.md M6 on RabbitMQ ({@link ElasticPartitionsTck}), and after every change one owner
 * per partition within 10 s as the broker shows it: each partition queue has exactly one consumer,
 * the active one, and the live members' slots own the partitions in equal shares.
 */
class RabbitElasticPartitionsIT extends ElasticPartitionsTck {

  @RegisterExtension static final RabbitVhostExtension rabbit = new RabbitVhostExtension();

  private static final int PARTITIONS = 8;
  private static final Duration OWNERSHIP_BOUND = Duration.ofSeconds(10);

  @Override
  protected Transport newTransport(int port) {
    return RabbitTransport.builder(rabbit.amqpUri(port))
        .memberHeartbeat(Duration.ofMillis(300))
        .recoveryInterval(Duration.ofMillis(250))
        .sendTimeout(Duration.ofSeconds(10))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Override
  protected int brokerPort() {
    return 5672;
  }

  /** Asks the broker, not the members. */
  @Override
  protected void awaitOneOwnerPerPartition(Destination.GroupQueue group, int slots, int members) {
    await()
        .atMost(OWNERSHIP_BOUND)
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              Map<String, List<String[]>> byQueue =
                  rabbit.consumersByQueue(group.queueName() + ".p", "consumer_tag", "active");
              assertThat(byQueue).hasSize(PARTITIONS);
              Map<String, Integer> owned = new HashMap<>();
              byQueue.forEach(
                  (queue, consumers) -> {
                    assertThat(consumers).as(queue).hasSize(1);
                    assertThat(consumers.get(0)[1]).as(queue + " active").isEqualTo("true");
                    String tag = consumers.get(0)[0];
                    owned.merge(tag.substring(0, tag.lastIndexOf(".p")), 1, Integer::sum);
                  });
              assertThat(owned).hasSize(Math.min(slots, PARTITIONS));
              assertThat(owned.values())
                  .allSatisfy(
                      n ->
                          assertThat(n)
                              .isBetween(
                                  PARTITIONS / Math.min(slots, PARTITIONS),
                                  (PARTITIONS + slots - 1) / Math.min(slots, PARTITIONS)));
            });
  }
}
