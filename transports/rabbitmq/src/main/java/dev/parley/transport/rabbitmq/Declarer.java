package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ChannelContinuationTimeoutException;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.parley.error.TransportException;
import dev.parley.transport.spi.Destination;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Declares exchanges, queues and bindings on a channel of its own, once per connection recovery: a
 * declaration is idempotent on the broker, and the cache only saves the round trip. A refused
 * declaration (arguments that differ from the existing queue's, a missing plugin) closes only this
 * channel and fails with the broker's reason.
 */
final class Declarer {

  private final Connection connection;
  private final Set<String> done = ConcurrentHashMap.newKeySet();

  /** Exchanges and queues known to exist: checked on every send, so without building keys. */
  private final Set<String> exchanges = ConcurrentHashMap.newKeySet();

  private final Set<String> queues = ConcurrentHashMap.newKeySet();

  /** Queues whose dead-letter queue is known to exist. */
  private final Set<String> deadLettersEnsured = ConcurrentHashMap.newKeySet();

  private Channel channel;

  Declarer(Connection connection) {
    this.connection = connection;
  }

  /** Forgets what was declared (after a recovery, the broker may have lost transient entities). */
  void reset() {
    done.clear();
    exchanges.clear();
    queues.clear();
    deadLettersEnsured.clear();
  }

  /**
   * Forgets exchange {@code name} and the bindings to and from it, so that they are declared again:
   * the broker said it does not exist (deleted under a running service).
   */
  void forgetExchange(String name) {
    exchanges.remove(name);
    done.removeIf(
        k ->
            k.equals("x:" + name)
                || (k.startsWith("bq:") && k.contains(">" + name + ":"))
                || k.startsWith("bx:" + name + ">")
                || (k.startsWith("bx:") && k.contains(">" + name + ":")));
  }

  void exchange(String name, String type, Map<String, Object> args) {
    if (exchanges.contains(name)) {
      return;
    }
    run("x:" + name, ch -> ch.exchangeDeclare(name, type, true, false, args));
    exchanges.add(name);
  }

  void queue(String name, Map<String, Object> args) {
    if (queues.contains(name)) {
      return;
    }
    run("q:" + name, ch -> ch.queueDeclare(name, true, false, false, args));
    queues.add(name);
  }

  /** A queue that lives as long as this connection (reply queues). */
  void temporaryQueue(String name) {
    run("t:" + name, ch -> ch.queueDeclare(name, false, true, true, null));
  }

  void bindQueue(String queue, String exchange, String key) {
    run("bq:" + queue + ">" + exchange + ":" + key, ch -> ch.queueBind(queue, exchange, key));
  }

  void bindExchange(String destination, String source, String key) {
    run(
        "bx:" + destination + ">" + source + ":" + key,
        ch -> ch.exchangeBind(destination, source, key));
  }

  /**
   * Makes sure {@code queue}'s dead-letter queue exists, declaring it with {@code arguments} when
   * it is missing (never redeclaring one that exists, whatever its arguments); checked once per
   * queue, without building a key on later calls.
   */
  void ensureDeadLetterQueue(String queue, Function<String, Map<String, Object>> arguments) {
    if (deadLettersEnsured.contains(queue)) {
      return;
    }
    String dlq = queue + Destination.DEAD_LETTER_SUFFIX;
    if (!queueExists(dlq)) {
      queue(dlq, arguments.apply(dlq));
    }
    deadLettersEnsured.add(queue);
  }

  /** Whether a queue exists (a passive declaration); never creates it. */
  boolean queueExists(String name) {
    if (queues.contains(name)) {
      return true;
    }
    synchronized (this) {
      try {
        channel().queueDeclarePassive(name);
        queues.add(name);
        return true;
      } catch (IOException e) {
        if (notFound(e)) {
          channel = null;
          return false;
        }
        throw refused("check queue " + name, e);
      }
    }
  }

  private void run(String key, Declaration declaration) {
    if (done.contains(key)) {
      return;
    }
    synchronized (this) {
      if (done.contains(key)) {
        return;
      }
      try {
        declaration.declare(channel());
        done.add(key);
      } catch (IOException | RuntimeException e) {
        throw refused("declare " + key, e);
      }
    }
  }

  private TransportException refused(String what, Exception e) {
    Throwable cause = e.getCause() instanceof ShutdownSignalException s ? s : e;
    if (channel != null && !channel.isOpen()) {
      channel = null;
    }
    if (e instanceof ChannelContinuationTimeoutException) {
      // Not a refusal: the broker did not answer within the transport's RPC timeout.
      return new TransportException(
          "parley.transport.unavailable", "RabbitMQ did not answer in time to " + what, e);
    }
    String code = accessRefused(e) ? "parley.rabbitmq.access_refused" : "parley.transport.topology";
    return new TransportException(
        code, "RabbitMQ refused to " + what + ": " + cause.getMessage(), e);
  }

  /**
   * Whether the broker refused for want of a permission (reply code 403 ACCESS_REFUSED: the user's
   * vhost permissions do not cover the resource).
   */
  static boolean accessRefused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ShutdownSignalException s
          && s.getReason() instanceof com.rabbitmq.client.AMQP.Channel.Close c) {
        return c.getReplyCode() == 403;
      }
    }
    return false;
  }

  private static boolean notFound(IOException e) {
    return e.getCause() instanceof ShutdownSignalException s
        && s.getReason() instanceof com.rabbitmq.client.AMQP.Channel.Close c
        && c.getReplyCode() == 404;
  }

  private Channel channel() throws IOException {
    if (channel == null || !channel.isOpen()) {
      if (channel != null) {
        // A hard (connection) failure: the recovering connection restores it; until then, fail.
        if (!connection.isOpen()) {
          throw new IOException("connection to RabbitMQ is down");
        }
      }
      Channel ch = connection.createChannel();
      if (ch == null) {
        throw new IOException("no channel available on the connection");
      }
      channel = ch;
    }
    return channel;
  }

  @FunctionalInterface
  private interface Declaration {
    void declare(Channel channel) throws IOException;
  }
}
