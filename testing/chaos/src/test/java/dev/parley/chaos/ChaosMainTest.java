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
    ChaosResult clean = result(9_500, 0, 2, 0);
    assertThat(clean.problems()).isEmpty();
    assertThat(clean.table()).contains("| M1 | clean |").contains("| lost | 0 |");
    assertThat(result(9_499, 1, 2, 0).problems()).containsExactly("1 committed message(s) lost");
    assertThat(result(9_500, 0, 0, 0).problems())
        .singleElement()
        .asString()
        .contains("evidence missing");
    // A dead letter makes a run NOT CLEAN even when every message was applied (another copy came).
    ChaosResult deadLetter = result(9_500, 0, 2, 1);
    assertThat(deadLetter.problems())
        .containsExactly(
            "1 delivery(ies) dead-lettered by the consumers (no M1 message is bad input)");
    assertThat(deadLetter.table())
        .contains("| M1 | NOT CLEAN |")
        .contains("| dead-lettered by the consumers | 1 |");
  }

  /** A build-size run of 9,500 committed messages with 2 broker kills done; the rest as given. */
  private static ChaosResult result(
      long applied, long lost, long producerReconnects, long deadLettered) {
    return new ChaosResult(
        ChaosM1.Config.buildSize("artemis", 1),
        "b",
        10_000,
        9_500,
        500,
        9_600,
        applied,
        lost,
        0,
        0,
        0,
        0,
        2,
        producerReconnects,
        "producer reconnects",
        3,
        6,
        1,
        40,
        30,
        deadLettered,
        Duration.ofSeconds(60));
  }
}
