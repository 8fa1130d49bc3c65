package dev.parley.testing.kit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code rabbitmqctl} (from the machine's RabbitMQ package) against one node, with a bounded
 * wait. Tests use it to create and delete their own virtual hosts and to read what the broker sees
 * (connections, consumers) independently of the client under test.
 */
public final class RabbitCtl {

  private final String ctl;
  private final String node;
  private final Map<String, String> environment;

  /** The machine's shared node ({@code rabbit@localhost} by default). */
  public static RabbitCtl shared() {
    return new RabbitCtl("rabbitmqctl", null, Map.of());
  }

  RabbitCtl(String ctl, String node, Map<String, String> environment) {
    this.ctl = ctl;
    this.node = node;
    this.environment = environment;
  }

  /** Runs {@code rabbitmqctl args...} and returns its standard output; fails on a non-zero exit. */
  public String run(String... args) {
    List<String> command = new ArrayList<>();
    command.add(ctl);
    if (node != null) {
      command.add("-n");
      command.add(node);
    }
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(environment);
    try {
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("rabbitmqctl " + String.join(" ", args) + " timed out");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "rabbitmqctl " + String.join(" ", args) + " exited " + p.exitValue() + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run rabbitmqctl (is RabbitMQ installed?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Lines of a {@code --silent} listing, without blanks. */
  public List<String> list(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--silent");
    return run(all.toArray(String[]::new)).lines().filter(l -> !l.isBlank()).toList();
  }

  /** Creates a virtual host that guest may use fully. */
  public void addVhost(String vhost) {
    run("add_vhost", vhost);
    run("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  }

  /** Deletes a virtual host and everything in it. */
  public void deleteVhost(String vhost) {
    run("delete_vhost", vhost);
  }

  /** Client connections the node holds in {@code vhost}. */
  public int connectionCount(String vhost) {
    return (int) list("list_connections", "vhost").stream().filter(vhost::equals).count();
  }

  /** STOMP connections open right now (RabbitMQ lists them apart from AMQP ones). */
  public int stompConnectionCount() {
    return list("list_stomp_connections", "session_id").size();
  }

  /**
   * Consumers per queue in {@code vhost}, as "queue active" lines ({@code true} for the consumer
   * the broker delivers to; on a single-active-consumer queue only one is).
   */
  public List<String> consumers(String vhost) {
    return list("list_consumers", "-p", vhost, "queue_name", "active");
  }
}
