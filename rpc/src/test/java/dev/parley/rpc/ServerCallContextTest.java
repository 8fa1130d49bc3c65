package dev.parley.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.policy.Deadline;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerCallContextTest {

  @Test
  void largestLegalGrpcTimeoutIsFarAwayNotExpired() {
    Deadline deadline = ServerCallContext.deadlineOf(null, "99999999H");

    assertThat(deadline.isExpired()).isFalse();
    assertThat(deadline.remaining()).isGreaterThan(Duration.ofDays(365));
  }

  @Test
  void grpcTimeoutUnitsAreRead() {
    assertThat(ServerCallContext.deadlineOf(null, "2S").remaining())
        .isBetween(Duration.ofMillis(1_500), Duration.ofSeconds(2));
    assertThat(ServerCallContext.deadlineOf(null, "1500m").remaining())
        .isBetween(Duration.ofMillis(1_000), Duration.ofMillis(1_500));
    assertThat(ServerCallContext.deadlineOf(null, "3M").remaining())
        .isBetween(Duration.ofMinutes(2), Duration.ofMinutes(3));
  }

  @Test
  void parleyTimeoutWinsAndMalformedValuesAreIgnored() {
    assertThat(ServerCallContext.deadlineOf("250", "1H").remaining())
        .isLessThanOrEqualTo(Duration.ofMillis(250));
    assertThat(ServerCallContext.deadlineOf("soon", "-1S")).isNull();
  }
}
