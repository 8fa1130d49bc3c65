package dev.parley.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.testing.kit.ScratchDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChaosMainTest {

  @Test
  void fullSizeIsTheDefaultAndOptionsOverrideIt() {
    ChaosM1.Config c = ChaosMain.parse(new String[] {"--seed", "7", "--relay-kills", "2"});
    assertThat(c.messages()).isEqualTo(100_000);
    assertThat(c.brokerKills()).isEqualTo(5);
    assertThat(c.consumerKills()).isEqualTo(10);
    assertThat(c.relayKills()).isEqualTo(2);
    assertThat(c.seed()).isEqualTo(7);
    assertThat(c.broker()).isEqualTo("artemis");
    assertThat(c.database()).isEqualTo(ScratchDatabase.POSTGRESQL);
  }

  @Test
  void optionsPassedAsOneArgumentAreSplit() {
    ChaosM1.Config c = ChaosMain.parse(new String[] {" --seed 7  --broker rabbitmq --size build"});
    assertThat(c.seed()).isEqualTo(7);
    assertThat(c.broker()).isEqualTo("rabbitmq");
    assertThat(c.messages()).isEqualTo(10_000);
  }

  @Test
  void badOptionsAreRefused() {
    assertThatThrownBy(() -> ChaosMain.parse(new String[] {"--size", "huge"}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ChaosMain.parse(new String[] {"--keys", "999"}))
        .hasMessageContaining("multiple of writers");
    assertThatThrownBy(() -> ChaosMain.parse(new String[] {"--seed"}))
        .hasMessageContaining("needs a value");
  }

  @Test
  void aRunWithAnyProblemIsNotCleanAndSaysWhy() {
    ChaosM1.Config c = ChaosM1.Config.buildSize("artemis", 1);
    ChaosResult clean =
        new ChaosResult(
            c,
            "b",
            10_000,
            9_500,
            500,
            9_600,
            9_500,
            0,
            0,
            0,
            0,
            0,
            2,
            2,
            3,
            6,
            1,
            40,
            30,
            Duration.ofSeconds(60));
    assertThat(clean.problems()).isEmpty();
    assertThat(clean.table()).contains("| M1 | clean |").contains("| lost | 0 |");
    ChaosResult lossy =
        new ChaosResult(
            c,
            "b",
            10_000,
            9_500,
            500,
            9_600,
            9_499,
            1,
            0,
            0,
            0,
            0,
            2,
            2,
            3,
            6,
            1,
            40,
            30,
            Duration.ofSeconds(60));
    assertThat(lossy.problems()).containsExactly("1 committed message(s) lost");
    ChaosResult noBrokerKill =
        new ChaosResult(
            c,
            "b",
            10_000,
            9_500,
            500,
            9_600,
            9_500,
            0,
            0,
            0,
            0,
            0,
            2,
            0,
            3,
            6,
            1,
            40,
            30,
            Duration.ofSeconds(60));
    assertThat(noBrokerKill.problems()).singleElement().asString().contains("evidence missing");
  }
}
