package dev.parley.chaos;

import org.junit.jupiter.api.Test;

/**
 * M1 at build size on the embedded Artemis in a child JVM over STOMP, with Parley's STOMP transport
 * (message groups keep per-key order). {@code -Dparley.m1.seed} replays a printed seed.
 */
class ChaosM1ArtemisStompIT {

  @Test
  void noLossNoDuplicateEffectNoGhostAndPerKeyOrderUnderKills() {
    BuildSizeM1.assertClean("artemis-stomp");
  }
}
