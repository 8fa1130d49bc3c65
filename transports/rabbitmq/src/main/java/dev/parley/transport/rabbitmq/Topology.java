package dev.parley.transport.rabbitmq;

import dev.parley.transport.spi.Destination;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The names and arguments of everything Parley declares on RabbitMQ, in one place (documented in
 * {@code docs/wire.md}). Producers and consumers both declare what they use, idempotently and with
 * the same arguments, so a message is never dropped because the other side has not declared yet.
 */
final class Topology {

  static final String FANOUT = "fanout";
  static final String DIRECT = "direct";
  static final String REPLY_PREFIX = "parley.reply.";
  static final String DELAY_PREFIX = "parley.delay.";

  /**
   * RabbitMQ's direct reply-to pseudo queue: a foreign caller may ask for replies there; it is
   * never declared, and a reply to a caller that has gone is dropped, as for any reply queue.
   */
  static final String DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

  private final QueueType queueType;
  private final int deliveryLimit;
  private final int partitions;

  Topology(QueueType queueType, int deliveryLimit, int partitions) {
    this.queueType = queueType;
    this.deliveryLimit = deliveryLimit;
    this.partitions = partitions;
  }

  int partitions() {
    return partitions;
  }

  /** The queue a destination is consumed from (a non-partitioned group, a command, a DLQ). */
  static String queueName(Destination d) {
    if (d instanceof Destination.GroupQueue g) {
      return g.queueName();
    }
    if (d instanceof Destination.Queue q) {
      return q.name();
    }
    throw new IllegalArgumentException("an event channel is not a queue: " + d);
  }

  /**
   * The direct exchange of a partitioned group, {@code <channel>.<group>}: partition number →
   * queue.
   */
  static String partitionExchange(Destination.GroupQueue g) {
    return g.queueName();
  }

  /** Partition queue {@code i} of a partitioned destination: {@code <queue>.p<i>}. */
  static String partitionQueue(String queue, int i) {
    return queue + ".p" + i;
  }

  /**
   * Queues a reply goes to as it is, on the default exchange, without a topology check: Parley's
   * own reply queues, direct reply-to, and server-named queues ({@code amq.gen-…}, the exclusive
   * reply queue of the classic AMQP 0-9-1 RPC pattern). Such a queue belongs to the caller's
   * connection, so the responder can neither check nor declare it, and a reply to a caller that is
   * gone is simply dropped.
   */
  static boolean isReplyQueue(String name) {
    return name.startsWith(REPLY_PREFIX)
        || name.startsWith(DIRECT_REPLY_TO)
        || name.startsWith(SERVER_NAMED);
  }

  /** The prefix of the queue names RabbitMQ makes up. */
  static final String SERVER_NAMED = "amq.gen-";

  static boolean isDeadLetterQueue(String name) {
    return name.endsWith(Destination.DEAD_LETTER_SUFFIX);
  }

  /**
   * Arguments of a durable queue named {@code name}: a dead-letter queue holds messages until a
   * person or a replay consumes them; any other queue dead-letters into {@code <name>.dlq} after
   * the delivery limit (RabbitMQ's own safety net for a message that kills its consumer: Parley's
   * pipeline dead-letters failures itself, with error headers, long before).
   */
  Map<String, Object> queueArguments(String name, String deadLetterQueue, boolean singleActive) {
    Map<String, Object> args = new HashMap<>();
    args.put("x-queue-type", queueType == QueueType.QUORUM ? "quorum" : "classic");
    if (!isDeadLetterQueue(name)) {
      args.put("x-dead-letter-exchange", "");
      args.put("x-dead-letter-routing-key", deadLetterQueue);
      if (queueType == QueueType.QUORUM) {
        args.put("x-delivery-limit", deliveryLimit);
        atLeastOnceDeadLettering(args);
      }
    }
    if (singleActive) {
      args.put("x-single-active-consumer", true);
    }
    return args;
  }

  /** A delay queue: holds messages for {@code delay}, then dead-letters them to the target. */
  Map<String, Object> delayArguments(Duration delay, String exchange, String routingKey) {
    Map<String, Object> args = new HashMap<>();
    args.put("x-queue-type", queueType == QueueType.QUORUM ? "quorum" : "classic");
    args.put("x-message-ttl", delay.toMillis());
    args.put("x-dead-letter-exchange", exchange);
    args.put("x-dead-letter-routing-key", routingKey);
    if (queueType == QueueType.QUORUM) {
      atLeastOnceDeadLettering(args);
    }
    return args;
  }

  /** The delay queue for a target and a delay: {@code parley.delay.<ms>.<target>}. */
  static String delayQueue(String target, Duration delay) {
    return DELAY_PREFIX + delay.toMillis() + "." + (target.isEmpty() ? "_" : target);
  }

  private static void atLeastOnceDeadLettering(Map<String, Object> args) {
    // Quorum queues (RabbitMQ 3.10+) move dead letters at-least-once only with reject-publish.
    args.put("x-dead-letter-strategy", "at-least-once");
    args.put("x-overflow", "reject-publish");
  }
}
