package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on a private RabbitMQ node (quorum queues; partitions keep per-key order).
 * {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1RabbitIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    ChaosResult result =
        ChaosM1.run(
            ChaosM1.Config.buildSize("rabbitmq", Long.getLong("parley.m1.seed", System.nanoTime())),
            System.out);
    System.out.print(result.table());
    assertThat(result.problems()).isEmpty();
  }
}
