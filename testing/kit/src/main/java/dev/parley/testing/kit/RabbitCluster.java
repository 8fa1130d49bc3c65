package dev.parley.testing.kit;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A private RabbitMQ cluster for tests that kill a cluster's node (RELIABILITY.md M15): {@link
 * RabbitNode}s of the machine's RabbitMQ package, each on its own loopback ports, sharing an Erlang
 * cookie and joined to the first one. A killed node {@linkplain RabbitNode#start() started} again
 * rejoins by itself. {@link #close()} stops and deletes every node.
 */
public final class RabbitCluster implements AutoCloseable {

  private static final Duration FORMED = Duration.ofSeconds(60);

  private final List<RabbitNode> nodes;

  private RabbitCluster(List<RabbitNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /** Starts {@code size} nodes at once, joins them, and waits until all run as one cluster. */
  public static RabbitCluster startTemporary(int size) {
    if (size < 2) {
      throw new IllegalArgumentException("size: " + size + " (expected: > 1)");
    }
    String cookie = cookie();
    ExecutorService starting = Executors.newFixedThreadPool(size);
    List<CompletableFuture<RabbitNode>> started = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      started.add(CompletableFuture.supplyAsync(() -> RabbitNode.startTemporary(cookie), starting));
    }
    List<RabbitNode> nodes = new ArrayList<>();
    RuntimeException failure = null;
    for (CompletableFuture<RabbitNode> node : started) {
      try {
        nodes.add(node.join());
      } catch (CompletionException e) {
        failure = failure == null ? new IllegalStateException("a node did not start", e) : failure;
      }
    }
    starting.shutdown();
    RabbitCluster cluster = new RabbitCluster(nodes);
    try {
      if (failure != null) {
        throw failure;
      }
      for (RabbitNode node : nodes.subList(1, size)) {
        node.joinCluster(nodes.get(0));
      }
      cluster.awaitRunning(size);
      return cluster;
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  /** The nodes, the first being the one the others joined. */
  public List<RabbitNode> nodes() {
    return nodes;
  }

  /** Every node's AMQP address, {@code 127.0.0.1:<port>}. */
  public String[] addresses() {
    return nodes.stream().map(n -> "127.0.0.1:" + n.port()).toArray(String[]::new);
  }

  /** The first node's URI for {@code vhost} (its host and port stand for the cluster's). */
  public URI amqpUri(String vhost) {
    return nodes.get(0).amqpUri(vhost);
  }

  /** rabbitmqctl on a running node (what it lists, it lists for the whole cluster). */
  public RabbitCtl ctl() {
    return nodes.stream()
        .filter(RabbitNode::isRunning)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no node of the cluster runs"))
        .ctl();
  }

  /**
   * The node a client's connection named {@code connectionName} (the name it gave, as RabbitMQ's
   * tools show it) is on, found by the port it connected to; null when there is none.
   */
  public RabbitNode nodeOf(String connectionName) {
    for (String line : ctl().list("list_connections", "client_properties", "port")) {
      if (!line.contains("\"" + connectionName + "\"")) {
        continue;
      }
      String port = line.substring(line.lastIndexOf('\t') + 1).trim();
      for (RabbitNode node : nodes) {
        if (Integer.toString(node.port()).equals(port)) {
          return node;
        }
      }
    }
    return null;
  }

  /** Each quorum queue of the default vhost with the node leading it (none while it has none). */
  public java.util.Map<String, RabbitNode> leaders() {
    java.util.Map<String, RabbitNode> leaders = new java.util.TreeMap<>();
    for (String line : ctl().list("list_queues", "name", "leader")) {
      String[] columns = line.split("\t");
      if (columns.length == 2) {
        nodes.stream()
            .filter(n -> n.nodeName().equals(columns[1]))
            .findFirst()
            .ifPresent(n -> leaders.put(columns[0], n));
      }
    }
    return leaders;
  }

  /** The node leading the quorum queue {@code queue} (of the default vhost); null if none. */
  public RabbitNode leaderOf(String queue) {
    return leaders().get(queue);
  }

  /** Waits until {@code count} nodes report themselves running in the cluster. */
  public void awaitRunning(int count) {
    long deadline = System.nanoTime() + FORMED.toNanos();
    while (true) {
      String status;
      try {
        status = ctl().run("cluster_status", "--formatter", "json");
      } catch (RuntimeException e) {
        status = "";
      }
      int running = 0;
      int at = status.indexOf("\"running_nodes\"");
      if (at >= 0) {
        String list = status.substring(at, status.indexOf(']', at));
        for (RabbitNode node : nodes) {
          if (list.contains("\"" + node.nodeName() + "\"")) {
            running++;
          }
        }
      }
      if (running >= count) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            running + " of " + count + " nodes running after " + FORMED + ": " + status);
      }
      try {
        TimeUnit.MILLISECONDS.sleep(200); // polling a child process, bounded above
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        nodes.get(i).close();
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static String cookie() {
    SecureRandom random = new SecureRandom();
    StringBuilder cookie = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      cookie.append((char) ('A' + random.nextInt(26)));
    }
    return cookie.toString();
  }
}
