package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class InFlightTest {

  private final InFlight inFlight = new InFlight();

  @Test
  void aCloseWaitsForTheDeliveriesBeingHandledWhileConnected() throws Exception {
    inFlight.begin();
    CompletableFuture<Boolean> idle =
        CompletableFuture.supplyAsync(() -> inFlight.awaitIdle(Duration.ofSeconds(30), () -> true));

    assertThat(idle).isNotDone();
    inFlight.end();
    assertThat(idle.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aCloseStopsWaitingOnceTheConnectionIsGone() throws Exception {
    inFlight.begin();
    AtomicBoolean connected = new AtomicBoolean(true);
    CompletableFuture<Boolean> idle =
        CompletableFuture.supplyAsync(
            () -> inFlight.awaitIdle(Duration.ofSeconds(30), connected::get));

    assertThat(idle).isNotDone();
    connected.set(false);
    assertThat(idle.get(10, TimeUnit.SECONDS)).isFalse();
    assertThat(inFlight.count()).isEqualTo(1);
  }

  @Test
  void withoutAConnectionNothingIsWaitedFor() {
    inFlight.begin();
    assertThat(inFlight.awaitIdle(Duration.ofSeconds(30), () -> false)).isFalse();
    inFlight.end();
    assertThat(inFlight.awaitIdle(Duration.ofSeconds(30), () -> false)).isTrue();
  }

  @Test
  void theBoundHoldsWhileConnected() {
    inFlight.begin();
    assertThat(inFlight.awaitIdle(Duration.ofMillis(50), () -> true)).isFalse();
  }
}
