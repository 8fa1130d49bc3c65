package dev.parley.chaos;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on a private RabbitMQ node through its STOMP plugin, with Parley's STOMP
 * transport (RELIABILITY.md M13 as M1: receipts, client-individual acks, the members' partitions).
 * {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1StompIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    BuildSizeM1.assertClean("stomp");
  }
}
