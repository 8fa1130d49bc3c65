package dev.parley.broker.embedded;

import dev.parley.transport.spi.LocalBroker;
import dev.parley.transport.spi.LocalBrokerProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zero-configuration broker: an {@link EmbeddedBroker} on the default ports with its journal in
 * {@code <data dir>/broker}, the data directory being the {@code parley.data.dir} system property
 * or the {@code PARLEY_DATA_DIR} environment variable (default {@code ./parley-data/broker}),
 * shared by every transport of this JVM and stopped when the last one closes. When another process
 * already listens on the default AMQP port (another service started on embedded defaults), this
 * process uses that broker instead of starting its own, so several services on one machine talk to
 * each other with no configuration.
 */
public final class EmbeddedBrokerProvider implements LocalBrokerProvider {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedBrokerProvider.class);
  private static final Object LOCK = new Object();
  private static EmbeddedBroker shared;
  private static int claims;

  @Override
  public LocalBroker acquire() {
    synchronized (LOCK) {
      if (shared == null) {
        if (isListening(EmbeddedBroker.DEFAULT_AMQP_PORT)) {
          log.info(
              "a broker already listens on 127.0.0.1:{}; using it",
              EmbeddedBroker.DEFAULT_AMQP_PORT);
          return new Claim(null);
        }
        String dir =
            System.getProperty(
                "parley.data.dir", System.getenv().getOrDefault("PARLEY_DATA_DIR", "parley-data"));
        EmbeddedBroker broker =
            EmbeddedBroker.builder().dataDirectory(Path.of(dir, "broker").toAbsolutePath()).build();
        broker.start();
        log.info(
            "embedded broker started: AMQP {} STOMP {}, journal in {}",
            broker.amqpUri(),
            broker.stompUri(),
            broker.dataDirectory());
        shared = broker;
      }
      claims++;
      return new Claim(shared);
    }
  }

  private static boolean isListening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static final class Claim implements LocalBroker {
    private final EmbeddedBroker broker;
    private boolean released;

    Claim(EmbeddedBroker broker) {
      this.broker = broker;
    }

    @Override
    public URI amqpUri() {
      return URI.create("amqp://127.0.0.1:" + EmbeddedBroker.DEFAULT_AMQP_PORT);
    }

    @Override
    public URI stompUri() {
      return URI.create("stomp://127.0.0.1:" + EmbeddedBroker.DEFAULT_STOMP_PORT);
    }

    @Override
    public void close() {
      synchronized (LOCK) {
        if (released || broker == null) {
          released = true;
          return;
        }
        released = true;
        if (--claims == 0) {
          shared = null;
          broker.stop();
          log.info("embedded broker stopped");
        }
      }
    }
  }
}
