package dev.parley.broker.embedded;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the embedded broker as a process of its own, for chaos tests that kill it with {@code kill
 * -9}: {@code java -cp … dev.parley.broker.embedded.EmbeddedBrokerMain <data-dir> <amqp-port>
 * <stomp-port>}. Prints {@code READY} once both acceptors listen; runs until killed.
 */
public final class EmbeddedBrokerMain {

  private EmbeddedBrokerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: EmbeddedBrokerMain <data-dir> <amqp-port> <stomp-port>");
      System.exit(2);
    }
    EmbeddedBroker broker =
        EmbeddedBroker.builder()
            .dataDirectory(Path.of(args[0]))
            .amqpPort(Integer.parseInt(args[1]))
            .stompPort(Integer.parseInt(args[2]))
            .build()
            .start();
    Runtime.getRuntime().addShutdownHook(new Thread(broker::close));
    System.out.println("READY");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
