package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;

/** One M1 run at build size on a broker, its table printed; {@code -Dparley.m1.seed} replays. */
final class BuildSizeM1 {

  private BuildSizeM1() {}

  static void assertClean(String broker) {
    ChaosResult result =
        ChaosM1.run(
            ChaosM1.Config.buildSize(broker, Long.getLong("parley.m1.seed", System.nanoTime())),
            System.out);
    System.out.print(result.table());
    assertThat(result.problems()).isEmpty();
  }
}
