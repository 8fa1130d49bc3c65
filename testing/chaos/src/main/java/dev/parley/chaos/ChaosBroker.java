package dev.parley.chaos;

import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.ChildJvmBroker;
import dev.parley.testing.kit.RabbitNode;
import dev.parley.transport.amqp.AmqpTransport;
import dev.parley.transport.rabbitmq.RabbitTransport;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.stomp.StompTransport;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;

/** A private broker the chaos run starts, kills with SIGKILL and restarts on the same data. */
abstract class ChaosBroker implements AutoCloseable {

  /**
   * {@code artemis} (embedded Artemis in a child JVM, AMQP 1.0), {@code rabbitmq} (a private
   * RabbitMQ node, AMQP 0-9-1), {@code stomp} (the same node through its STOMP plugin, with
   * Parley's STOMP transport) or {@code artemis-stomp} (the child JVM's Artemis over STOMP).
   */
  static ChaosBroker named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "artemis" -> new Artemis();
      case "rabbitmq" -> new Rabbit();
      case "stomp" -> new RabbitStomp();
      case "artemis-stomp" -> new ArtemisStomp();
      default ->
          throw new IllegalArgumentException(
              "broker: " + name + " (expected: artemis, rabbitmq, stomp, artemis-stomp)");
    };
  }

  abstract String name();

  abstract void start();

  abstract void killAndRestart();

  /** Anything the broker needs once the queues exist and before the faults begin. */
  void beforeFaults(Messaging producer) {}

  /** The client port on loopback (clients reach it through fault proxies). */
  abstract int port();

  abstract Transport transport(int port);

  abstract long reconnects(Transport transport);

  static void await(Duration atMost, Callable<Boolean> condition) {
    Awaitility.await().atMost(atMost).until(condition);
  }

  static class Artemis extends ChaosBroker {
    ChildJvmBroker broker;

    @Override
    String name() {
      return "embedded Artemis (child JVM), AMQP 1.0";
    }

    @Override
    void start() {
      broker = ChildJvmBroker.start();
    }

    @Override
    void killAndRestart() {
      broker.kill();
      broker.restart();
    }

    @Override
    int port() {
      return broker.amqpPort();
    }

    @Override
    Transport transport(int port) {
      return AmqpTransport.builder(URI.create("amqp://127.0.0.1:" + port))
          .sendTimeout(Duration.ofSeconds(3))
          .reconnectDelay(Duration.ofMillis(50))
          .maxReconnectDelay(Duration.ofMillis(500))
          .build();
    }

    @Override
    long reconnects(Transport transport) {
      return ((AmqpTransport) transport).reconnects();
    }

    @Override
    public void close() {
      if (broker != null) {
        broker.close();
      }
    }
  }

  static class Rabbit extends ChaosBroker {
    RabbitNode node;

    @Override
    String name() {
      return "private RabbitMQ node, AMQP 0-9-1, quorum queues";
    }

    @Override
    void start() {
      node = RabbitNode.startTemporary();
    }

    @Override
    void killAndRestart() {
      node.kill();
      node.start();
    }

    @Override
    void beforeFaults(Messaging producer) {
      // The partition queues exist now; let the broker persist them with a clean restart (a quorum
      // queue created a moment before a kill -9 can come back unusable on 3.10: docs/wire.md 7.5).
      node.stop();
      node.start();
      await(Duration.ofSeconds(60), () -> isConnected(producer.transport()));
    }

    boolean isConnected(Transport transport) {
      return ((RabbitTransport) transport).isConnected();
    }

    @Override
    int port() {
      return node.port();
    }

    @Override
    Transport transport(int port) {
      return RabbitTransport.builder(URI.create("amqp://guest:guest@127.0.0.1:" + port + "/"))
          .sendTimeout(Duration.ofSeconds(3))
          .recoveryInterval(Duration.ofMillis(250))
          .memberHeartbeat(Duration.ofMillis(300))
          .closeTimeout(Duration.ofSeconds(2))
          .build();
    }

    @Override
    long reconnects(Transport transport) {
      return ((RabbitTransport) transport).reconnects();
    }

    @Override
    public void close() {
      if (node != null) {
        node.close();
      }
    }
  }

  /**
   * The private RabbitMQ node through its STOMP plugin: Parley's own STOMP client (receipts,
   * client-individual acks, its partition members) under the same kills (RELIABILITY.md M13 as M1).
   */
  static final class RabbitStomp extends Rabbit {

    @Override
    String name() {
      return "private RabbitMQ node, STOMP 1.2 (its STOMP plugin), classic queues";
    }

    @Override
    int port() {
      return node.stompPort();
    }

    @Override
    Transport transport(int port) {
      return stomp("stomp://guest:guest@127.0.0.1:" + port + "/");
    }

    @Override
    long reconnects(Transport transport) {
      return ((StompTransport) transport).reconnects();
    }

    @Override
    boolean isConnected(Transport transport) {
      return ((StompTransport) transport).isConnected();
    }
  }

  /** The child JVM's Artemis through its STOMP acceptor, with Parley's STOMP transport. */
  static final class ArtemisStomp extends Artemis {

    @Override
    String name() {
      return "embedded Artemis (child JVM), STOMP 1.2";
    }

    @Override
    int port() {
      return broker.stompUri().getPort();
    }

    @Override
    Transport transport(int port) {
      return stomp("stomp://127.0.0.1:" + port);
    }

    @Override
    long reconnects(Transport transport) {
      return ((StompTransport) transport).reconnects();
    }
  }

  /** Parley's STOMP transport with the run's short timeouts and heart-beats. */
  static StompTransport stomp(String uri) {
    return StompTransport.builder(URI.create(uri))
        .sendTimeout(Duration.ofSeconds(3))
        .heartbeat(Duration.ofSeconds(1))
        .reconnectInterval(Duration.ofMillis(250))
        .memberHeartbeat(Duration.ofMillis(300))
        .closeTimeout(Duration.ofSeconds(2))
        .build();
  }
}
