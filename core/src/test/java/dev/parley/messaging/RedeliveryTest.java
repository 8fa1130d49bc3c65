package dev.parley.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedeliveryTest {

  @Test
  void countsImmediateAndDelayedAttempts() {
    Redelivery tiers =
        Redelivery.of(3, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(10));

    assertThat(tiers.maxAttempts()).isEqualTo(5);
    assertThat(Redelivery.none().maxAttempts()).isEqualTo(1);
  }

  @Test
  void backoffDoublesPerImmediateRetry() {
    Redelivery tiers = Redelivery.of(4, Duration.ofMillis(100));

    assertThat(tiers.backoffBefore(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(tiers.backoffBefore(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(tiers.backoffBefore(3)).isEqualTo(Duration.ofMillis(400));
  }

  @Test
  void validatesWithTheValueInTheMessage() {
    assertThatThrownBy(() -> Redelivery.of(0, Duration.ZERO))
        .hasMessage("immediateAttempts: 0 (expected: > 0)");
    assertThatThrownBy(() -> Redelivery.of(1, Duration.ofMillis(-1)))
        .hasMessage("backoff: PT-0.001S (expected: >= 0)");
  }
}
