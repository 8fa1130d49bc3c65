package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on the embedded Artemis in a child JVM (AMQP 1.0; message groups keep per-key
 * order). {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1ArtemisIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    ChaosResult result =
        ChaosM1.run(
            ChaosM1.Config.buildSize("artemis", Long.getLong("parley.m1.seed", System.nanoTime())),
            System.out);
    System.out.print(result.table());
    assertThat(result.problems()).isEmpty();
  }
}
