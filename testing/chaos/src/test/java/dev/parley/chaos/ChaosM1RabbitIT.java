package dev.parley.chaos;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on a private RabbitMQ node (quorum queues; partitions keep per-key order).
 * {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1RabbitIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    BuildSizeM1.assertClean("rabbitmq");
  }
}
