package dev.parley.transport.stomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.error.TransportException;
import dev.parley.message.Message;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.Toxic;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A broker that stops reading (its socket buffers full, so the client's writes block): the
 * connection is declared lost within about two heart-beats of the stall, the send caught in the
 * write returns and fails, and the transport connects again once the broker reads. Before, the
 * transport's timer blocked behind the stalled write to send its own heart-beat, so nothing ever
 * declared the link dead and the sender stayed blocked.
 */
class StompWriteStallIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private static final Duration HEARTBEAT = Duration.ofMillis(500);

  /** What the heart-beats allow: two of them and half a second, plus a timer tick. */
  private static final Duration DETECTION = HEARTBEAT.multipliedBy(2).plusMillis(500 + 250);

  /** The broker neither reads nor speaks (a hung broker, a link gone silent). */
  @Test
  void aBrokerThatNeitherReadsNorSpeaksIsDroppedAndTheBlockedSendReturns() throws Exception {
    stallAndRecover(
        Toxic.stall(Toxic.Direction.UPSTREAM), Toxic.timeout(Toxic.Direction.DOWNSTREAM));
  }

  /** The broker still sends heart-beats but reads nothing (as under a resource alarm). */
  @Test
  void aBrokerThatStopsReadingIsDroppedAndTheBlockedSendReturns() throws Exception {
    stallAndRecover(Toxic.stall(Toxic.Direction.UPSTREAM));
  }

  private void stallAndRecover(Toxic... toxics) throws Exception {
    try (FaultProxy proxy = FaultProxy.to("127.0.0.1", broker.stompUri().getPort());
        StompTransport transport =
            StompTransport.builder(URI.create("stomp://127.0.0.1:" + proxy.port()))
                .heartbeat(HEARTBEAT)
                .connectTimeout(Duration.ofSeconds(1))
                .reconnectInterval(Duration.ofMillis(200))
                .sendTimeout(Duration.ofSeconds(1))
                .closeTimeout(Duration.ofSeconds(1))
                .build()) {
      Destination.Queue queue = new Destination.Queue("stall.commands." + System.nanoTime());
      transport
          .send(queue, Message.builder().payload(new byte[] {1}).build(), SendOptions.NONE)
          .get(10, TimeUnit.SECONDS);
      for (Toxic t : toxics) {
        proxy.add(t);
      }
      // The broker drops a client it hears nothing from; like a silent network, the proxy does not
      // pass that close on (for longer than the test lasts), so only the client can end the wait.
      proxy.add(Toxic.slowClose(Toxic.Direction.DOWNSTREAM, Duration.ofSeconds(30)));

      byte[] payload = new byte[64 * 1024];
      AtomicLong longestCall = new AtomicLong();
      List<CompletableFuture<Void>> sends = new CopyOnWriteArrayList<>();
      List<Throwable> thrown = new CopyOnWriteArrayList<>();
      long reconnectsBefore = transport.reconnects();
      Thread sender =
          new Thread(
              () -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                // bounded: 4,000 sends of 64 KiB fill any loopback buffers many times over
                for (int i = 0; i < 4_000 && System.nanoTime() < end; i++) {
                  long start = System.nanoTime();
                  try {
                    sends.add(
                        transport.send(
                            queue, Message.builder().payload(payload).build(), SendOptions.NONE));
                  } catch (RuntimeException e) {
                    thrown.add(e);
                  }
                  longestCall.accumulateAndGet(System.nanoTime() - start, Math::max);
                  if (transport.reconnects() > reconnectsBefore || !transport.isConnected()) {
                    return; // the link was declared lost
                  }
                }
              },
              "stall-sender");
      sender.setDaemon(true);
      sender.start();

      // The fault: the buffers filled and a send blocked in its write.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !sender.isAlive() || longestCall.get() > 0 && isBlocked(sender));
      // The link is declared lost and the blocked send returns, within the heart-beats' bound.
      sender.join(DETECTION.plusSeconds(3).toMillis());
      assertThat(sender.isAlive()).as("the sender is still blocked in a write").isFalse();
      assertThat(Duration.ofNanos(longestCall.get()))
          .as("the longest send() call")
          .isGreaterThan(HEARTBEAT.dividedBy(2))
          .isLessThan(DETECTION.plusSeconds(1));
      assertThat(sends).isNotEmpty();
      CompletableFuture<Void> last = sends.get(sends.size() - 1);
      assertThat(last)
          .failsWithin(Duration.ofSeconds(5))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause()
          .isInstanceOf(TransportException.class);

      proxy.clearToxics();
      await().atMost(Duration.ofSeconds(20)).until(transport::isConnected);
      assertThat(transport.reconnects()).isGreaterThan(reconnectsBefore);
      assertThat(
              transport.send(
                  queue, Message.builder().payload(new byte[] {2}).build(), SendOptions.NONE))
          .succeedsWithin(Duration.ofSeconds(10));
    }
  }

  /** Whether {@code thread} is inside a socket write now. */
  private static boolean isBlocked(Thread thread) {
    for (StackTraceElement e : thread.getStackTrace()) {
      if (e.getMethodName().contains("write") && e.getClassName().contains("Socket")) {
        return true;
      }
    }
    return false;
  }
}
