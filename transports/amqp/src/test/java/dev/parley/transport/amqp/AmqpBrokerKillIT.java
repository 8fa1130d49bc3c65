package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.testing.kit.ChildJvmBroker;
import dev.parley.testing.kit.SendRun;
import dev.parley.transport.spi.Destination;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * M2 and M12 on the AMQP 1.0 transport: the embedded Artemis runs in a JVM of its own with a
 * persistent journal and is killed ({@code SIGKILL}) and restarted 5 times in the middle of a run
 * of pipelined sends. Every send the broker accepted is consumed afterwards; a failed send may or
 * may not have arrived (an unknown outcome, told apart by the message id, as an inbox would);
 * nothing is invented; every failed send failed with a transport error code. Full size: {@code
 * -Dparley.m12.messages=20000 -Dparley.m12.kills=5}.
 */
@Timeout(600)
class AmqpBrokerKillIT {

  private static final int MESSAGES = Integer.getInteger("parley.m12.messages", 10_000);

  private static final int KILLS = Integer.getInteger("parley.m12.kills", 5);

  /** A kill comes after each this many more accepted sends, while the run is in full flow. */
  private static final int KILL_AFTER = MESSAGES / (KILLS + 2);

  private static final int IN_FLIGHT = 100;

  /** What a send may fail with while the broker dies and comes back: all of them typed. */
  private static final Set<String> KILL_FAILURES =
      Set.of("parley.transport.connection_lost", dev.parley.transport.spi.Transport.SEND_TIMEOUT);

  @Test
  void aBrokerKilledFiveTimesDuringAPublishRunLosesNoAcceptedMessage() throws Exception {
    Destination.Queue queue = new Destination.Queue("kill.commands");
    try (ChildJvmBroker broker = ChildJvmBroker.start();
        AmqpTransport transport =
            AmqpTransport.builder(broker.amqpUri())
                .sendTimeout(Duration.ofSeconds(3))
                .heartbeat(Duration.ofSeconds(2))
                .reconnectDelay(Duration.ofMillis(50))
                .maxReconnectDelay(Duration.ofMillis(500))
                .closeTimeout(Duration.ofSeconds(5))
                .build()) {
      SendRun run =
          SendRun.start(
              transport,
              queue,
              MESSAGES,
              IN_FLIGHT,
              Duration.ofSeconds(300),
              transport::isConnected);
      int acceptedBeforeLastKill = 0;
      for (int kill = 1; kill <= KILLS; kill++) {
        int after = kill * KILL_AFTER;
        await().atMost(Duration.ofSeconds(120)).until(() -> run.confirmed() >= after);
        acceptedBeforeLastKill = run.confirmed();
        long reconnectsBefore = transport.reconnects();
        broker.kill(); // while sends are in flight
        broker.restart();
        await("the client reconnected after kill " + kill)
            .atMost(Duration.ofSeconds(60))
            .until(() -> transport.reconnects() > reconnectsBefore && transport.isConnected());
      }
      run.await(Duration.ofSeconds(300));
      SendRun.Drained drained = run.drain(transport, queue, Duration.ofSeconds(120), Set.of());
      System.out.printf(
          "M12: kills=%d sent=%d accepted=%d failed=%d %s %s reconnects=%d%n",
          KILLS,
          run.outcomes().size(),
          run.confirmed(),
          run.failed(),
          run.failureCodes(),
          drained,
          transport.reconnects());
      assertThat(drained.invented()).as("consumed but never sent").isZero();
      assertThat(transport.reconnects())
          .as("reconnects seen by the client")
          .isGreaterThanOrEqualTo(KILLS);
      assertThat(run.failed()).as("sends that failed while the broker was down").isPositive();
      assertThat(run.failureCodes().keySet())
          .as("every failed send failed with a transport error code")
          .isSubsetOf(KILL_FAILURES);
      assertThat(run.confirmed() - acceptedBeforeLastKill)
          .as("accepted after the last kill")
          .isGreaterThan(KILL_AFTER);
    }
  }
}
