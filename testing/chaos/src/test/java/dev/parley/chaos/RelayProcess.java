package dev.parley.chaos;

import dev.parley.codec.Codecs;
import dev.parley.jdbc.Outbox;
import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.ScratchDatabase;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A service that only relays an outbox: run in a child JVM by {@link RelayRestartIT}, which kills
 * it with SIGKILL. Arguments: broker URI, PostgreSQL schema of the outbox.
 */
public final class RelayProcess {

  private RelayProcess() {}

  public static void main(String[] args) throws InterruptedException {
    Messaging messaging =
        Messaging.builder().service("relay").brokerUri(args[0]).codecs(Codecs.discover()).build();
    Outbox.builder(ScratchDatabase.postgres(args[1], 5432), messaging)
        .lease(Duration.ofSeconds(2))
        .createSchema(false)
        .build()
        .start();
    System.out.println("relaying");
    new CountDownLatch(1).await(); // until killed
  }
}
