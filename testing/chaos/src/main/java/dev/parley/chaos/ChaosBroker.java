package dev.parley.chaos;

import dev.parley.messaging.Messaging;
import dev.parley.testing.kit.ChildJvmBroker;
import dev.parley.testing.kit.FaultProxy;
import dev.parley.testing.kit.RabbitCluster;
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
   * RabbitMQ node, AMQP 0-9-1), {@code rabbitmq-cluster} (three private RabbitMQ nodes in a
   * cluster, the leader's node of most of the run's queues killed: RELIABILITY.md M15), {@code
   * stomp} (the same node through its STOMP plugin, with Parley's STOMP transport), {@code
   * stomp-cluster} (the cluster through its nodes' STOMP plugins, quorum queues) or {@code
   * artemis-stomp} (the child JVM's Artemis over STOMP).
   */
  static ChaosBroker named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "artemis" -> new Artemis();
      case "rabbitmq" -> new Rabbit();
      case "rabbitmq-cluster" -> new RabbitClusterBroker();
      case "stomp" -> new RabbitStomp();
      case "stomp-cluster" -> new StompClusterBroker();
      case "artemis-stomp" -> new ArtemisStomp();
      default ->
          throw new IllegalArgumentException(
              "broker: "
                  + name
                  + " (expected: artemis, rabbitmq, rabbitmq-cluster, stomp, stomp-cluster,"
                  + " artemis-stomp)");
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

  /** The transport of a client that needs no kill switch (the producer): no proxy between. */
  Transport directTransport() {
    return transport(port());
  }

  /** A client's kill switch: a proxy to the broker that cuts its connections when disabled. */
  FaultProxy proxy() {
    return FaultProxy.to("127.0.0.1", port());
  }

  /** The evidence of the kills so far, as {@link #killEvidence} names it. */
  long killsFelt(Transport producer) {
    return reconnects(producer);
  }

  /** What {@link #killsFelt} counts, for the run's table. */
  String killEvidence() {
    return "producer reconnects";
  }

  /**
   * Whether the producer felt the last {@link #killAndRestart} and is back: by default it
   * reconnected since {@code reconnectsBefore}.
   */
  boolean recovered(Transport producer, long reconnectsBefore) {
    return reconnects(producer) > reconnectsBefore;
  }

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
      return rabbit("127.0.0.1:" + port + "/");
    }

    /** Parley's RabbitMQ transport with the run's short timeouts, to {@code hosts/vhost}. */
    static RabbitTransport rabbit(String hostsAndVhost) {
      return RabbitTransport.builder(URI.create("amqp://guest:guest@" + hostsAndVhost))
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
   * Three private RabbitMQ nodes in a cluster (RELIABILITY.md M15): each kill takes the node that
   * leads most of the run's quorum queues, and the next fault waits until it has rejoined. The
   * producer is given every node; each consumer and relay reaches them through a proxy that tries
   * them in turn (its kill switch).
   */
  static class RabbitClusterBroker extends Rabbit {
    RabbitCluster cluster;
    final java.util.List<String> kills = new java.util.ArrayList<>();
    int felt;

    @Override
    String name() {
      return "private RabbitMQ cluster of 3 nodes, AMQP 0-9-1, quorum queues";
    }

    @Override
    void start() {
      cluster = RabbitCluster.startTemporary(3);
    }

    @Override
    void killAndRestart() {
      java.util.Map<String, Integer> led = new java.util.TreeMap<>();
      java.util.Map<String, RabbitNode> byName = new java.util.HashMap<>();
      cluster
          .leaders()
          .forEach(
              (queue, node) -> {
                if (queue.startsWith("m1.")) {
                  led.merge(node.nodeName(), 1, Integer::sum);
                  byName.put(node.nodeName(), node);
                }
              });
      String leader =
          led.entrySet().stream()
              .max(java.util.Map.Entry.comparingByValue())
              .map(java.util.Map.Entry::getKey)
              .orElseThrow(() -> new IllegalStateException("no queue of the run has a leader"));
      RabbitNode victim = byName.get(leader);
      victim.kill();
      boolean seenDown = !victim.isRunning();
      kills.add(leader + " leading " + led.get(leader) + " of " + led);
      victim.start();
      cluster.awaitRunning(3);
      if (seenDown) {
        felt++;
      }
    }

    /** The producer need not have been on the killed node: the node's own death and return. */
    @Override
    long killsFelt(Transport producer) {
      return felt;
    }

    @Override
    String killEvidence() {
      return "killed nodes seen down, then back in the cluster";
    }

    @Override
    void beforeFaults(Messaging producer) {
      await(Duration.ofSeconds(60), () -> isConnected(producer.transport()));
    }

    @Override
    int port() {
      return cluster.nodes().get(0).port();
    }

    @Override
    Transport directTransport() {
      return rabbit(String.join(",", cluster.addresses()) + "/%2F");
    }

    @Override
    FaultProxy proxy() {
      return FaultProxy.toAny(cluster.nodes().stream().mapToInt(RabbitNode::port).toArray());
    }

    /** The kill waited for the node's return; the producer need not have been on it. */
    @Override
    boolean recovered(Transport producer, long reconnectsBefore) {
      return isConnected(producer);
    }

    @Override
    public void close() {
      System.out.println("M15 kills: " + kills);
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /**
   * The three-node cluster through its nodes' STOMP plugins (RELIABILITY.md M15 on STOMP): the
   * transports declare quorum queues ({@link StompTransport.Builder#queueType}); the producer is
   * given every node's STOMP port, each consumer and relay reaches them through a proxy that tries
   * them in turn.
   */
  static final class StompClusterBroker extends RabbitClusterBroker {

    @Override
    String name() {
      return "private RabbitMQ cluster of 3 nodes, STOMP 1.2 (its STOMP plugin), quorum queues";
    }

    private int[] stompPorts() {
      return cluster.nodes().stream().mapToInt(RabbitNode::stompPort).toArray();
    }

    @Override
    int port() {
      return stompPorts()[0];
    }

    @Override
    Transport transport(int port) {
      return stompBuilder("stomp://guest:guest@127.0.0.1:" + port + "/")
          .queueType(StompTransport.QueueType.QUORUM)
          .build();
    }

    @Override
    Transport directTransport() {
      return stompBuilder("stomp://guest:guest@127.0.0.1:1/")
          .addresses(
              java.util.Arrays.stream(stompPorts())
                  .mapToObj(p -> "127.0.0.1:" + p)
                  .toArray(String[]::new))
          .queueType(StompTransport.QueueType.QUORUM)
          .build();
    }

    @Override
    FaultProxy proxy() {
      return FaultProxy.toAny(stompPorts());
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
    return stompBuilder(uri).build();
  }

  /** {@link #stomp}'s builder, for more settings. */
  static StompTransport.Builder stompBuilder(String uri) {
    return StompTransport.builder(URI.create(uri))
        .sendTimeout(Duration.ofSeconds(3))
        .heartbeat(Duration.ofSeconds(1))
        .reconnectInterval(Duration.ofMillis(250))
        .memberHeartbeat(Duration.ofMillis(300))
        .closeTimeout(Duration.ofSeconds(2));
  }
}
