package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on a private RabbitMQ node through its STOMP plugin, with Parley's STOMP
 * transport (RELIABILITY.md M13 as M1: receipts, client-individual acks, STOMP partition members).
 * {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1StompIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    ChaosResult result =
        ChaosM1.run(
            ChaosM1.Config.buildSize("stomp", Long.getLong("parley.m1.seed", System.nanoTime())),
            System.out);
    System.out.print(result.table());
    assertThat(result.problems()).isEmpty();
  }
}
