package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class SendTimeoutsTest {

  @Test
  void aSendNotAcceptedInTimeFailsWithTheSendTimeoutCode() {
    CompletableFuture<Void> send =
        SendTimeouts.within(new CompletableFuture<>(), Duration.ofMillis(20), "not accepted");

    await().atMost(Duration.ofSeconds(5)).until(send::isDone);

    assertThat(send)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            TransportException.class,
            e -> {
              assertThat(e.status().errorCode()).isEqualTo(Transport.SEND_TIMEOUT);
              assertThat(e).hasMessageContaining("not accepted within PT0.02S");
            });
  }

  @Test
  void aSendAcceptedInTimeKeepsItsResult() {
    CompletableFuture<String> pending = new CompletableFuture<>();
    CompletableFuture<String> send = SendTimeouts.within(pending, Duration.ofMillis(50), "x");
    pending.complete("accepted");
    // a later send that times out shows the timer has passed the first one's deadline
    CompletableFuture<Void> later =
        SendTimeouts.within(new CompletableFuture<>(), Duration.ofMillis(100), "y");
    await().atMost(Duration.ofSeconds(5)).until(later::isDone);

    assertThat(send).isSameAs(pending).isCompletedWithValue("accepted");
    assertThat(later.handle((v, e) -> e instanceof CompletionException ? e.getCause() : e).join())
        .isInstanceOf(TransportException.class);
  }
}
