package dev.parley.testing.kit;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A virtual host of its own on the machine's shared RabbitMQ (localhost:5672, guest/guest) for one
 * test class: created before it, deleted with everything in it after, so runs never see each
 * other's queues. Register it as a static field.
 */
public final class RabbitVhostExtension implements BeforeAllCallback, AfterAllCallback {

  private final RabbitCtl ctl = RabbitCtl.shared();
  private String vhost;

  @Override
  public void beforeAll(ExtensionContext context) {
    vhost = "parley-test-" + UUID.randomUUID().toString().substring(0, 8);
    ctl.addVhost(vhost);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (vhost != null) {
      ctl.deleteVhost(vhost);
    }
  }

  public String vhost() {
    return vhost;
  }

  /** {@code amqp://guest:guest@127.0.0.1:5672/<vhost>}. */
  public URI amqpUri() {
    return amqpUri(5672);
  }

  /** The vhost's URI through another port of this machine (a {@link FaultProxy}'s). */
  public URI amqpUri(int port) {
    return URI.create("amqp://guest:guest@127.0.0.1:" + port + "/" + vhost);
  }

  public RabbitCtl ctl() {
    return ctl;
  }

  /**
   * The rows of {@code rabbitmqctl <command> -p <vhost> <columns…>} whose first column starts with
   * {@code prefix} (queues, or consumers by their queue), each split at whitespace.
   */
  public List<String[]> rows(String command, String prefix, String... columns) {
    String[] args = new String[columns.length + 3];
    args[0] = command;
    args[1] = "-p";
    args[2] = vhost;
    System.arraycopy(columns, 0, args, 3, columns.length);
    List<String[]> out = new ArrayList<>();
    for (String line : ctl.list(args)) {
      String[] fields = line.trim().split("\\s+");
      if (fields[0].startsWith(prefix)) {
        out.add(fields);
      }
    }
    return out;
  }

  /**
   * The consumers of the queues whose names start with {@code prefix}, by queue (in name order),
   * each as the given {@code list_consumers} columns after the queue's name.
   */
  public Map<String, List<String[]>> consumersByQueue(String prefix, String... columns) {
    String[] all = new String[columns.length + 1];
    all[0] = "queue_name";
    System.arraycopy(columns, 0, all, 1, columns.length);
    Map<String, List<String[]>> out = new TreeMap<>();
    for (String[] row : rows("list_consumers", prefix, all)) {
      out.computeIfAbsent(row[0], q -> new ArrayList<>())
          .add(Arrays.copyOfRange(row, 1, row.length));
    }
    return out;
  }
}
