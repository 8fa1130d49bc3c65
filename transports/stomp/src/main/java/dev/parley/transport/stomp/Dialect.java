package dev.parley.transport.stomp;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.spi.AmqpIds;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Partitions;
import dev.parley.transport.spi.ReservedHeaders;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What STOMP leaves to each broker: destination names, routing, delays, grouping and what NACK
 * means. Chosen from the {@code server} header of the broker's CONNECTED frame (documented in
 * {@code docs/wire.md}).
 */
abstract sealed class Dialect {

  static final String REPLY_PREFIX = "parley.reply.";

  /** The dialect for a broker that introduced itself as {@code server}. */
  static Dialect forServer(String server, int partitions, StompTransport.QueueType queueType) {
    if (server != null && server.startsWith("RabbitMQ")) {
      return new RabbitMq(partitions, queueType);
    }
    return new Artemis();
  }

  abstract String name();

  /** The SEND frame's destination and routing headers for a message to {@code d}. */
  abstract Map<String, String> sendHeaders(
      Destination d, Message m, Duration delay, boolean persistent);

  /** The SUBSCRIBE frame's destination headers for one consumer of {@code d}. */
  abstract Map<String, String> subscribeHeaders(Destination d, int prefetch, boolean temporary);

  /**
   * Whether NACK gives a message back to its queue for redelivery. Artemis treats NACK as ACK (it
   * drops the message), so a release there re-subscribes instead.
   */
  abstract boolean nackRequeues();

  /** Whether partitioned groups need Parley's member protocol (no broker-side grouping). */
  abstract boolean needsMembers();

  static boolean isReplyQueue(String name) {
    return name.startsWith(REPLY_PREFIX);
  }

  /**
   * A message's headers as a SEND's, {@code persistent:true} added: a header that is not a message
   * header to STOMP (a frame's own, or one a broker reads on a SEND, {@link
   * StompMessages#isMessageHeader}) is left out, whatever the message carries.
   */
  static Map<String, String> messageHeaders(Message m, boolean persistent) {
    Map<String, String> h = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : m.headers().entrySet()) {
      if (StompMessages.isMessageHeader(e.getKey())) {
        h.put(e.getKey(), e.getValue());
      }
    }
    markPersistent(h, persistent);
    return h;
  }

  /**
   * {@code persistent:true}, or no line at all: both brokers take a message without one as
   * transient, and every line costs them work per message (RabbitMQ's plugin about 3.5 µs).
   */
  static void markPersistent(Map<String, String> h, boolean persistent) {
    if (persistent) {
      h.put("persistent", "true");
    }
  }

  /**
   * Adds to a MESSAGE's {@code headers} (its message headers, already read) the Parley headers this
   * broker carries under names of its own; a Parley header the frame has under its own name stays.
   */
  void readNative(StompFrame frame, Map<String, String> headers) {}

  /** ActiveMQ Artemis: addresses and queues by name, FQQN {@code address::queue}. */
  static final class Artemis extends Dialect {
    @Override
    String name() {
      return "artemis";
    }

    @Override
    Map<String, String> sendHeaders(Destination d, Message m, Duration delay, boolean persistent) {
      Map<String, String> h = messageHeaders(m, persistent);
      if (d instanceof Destination.Event e) {
        h.put("destination", e.channel());
        h.put("destination-type", "MULTICAST");
      } else if (d instanceof Destination.GroupQueue g) {
        h.put("destination", g.channel() + "::" + g.queueName());
        h.put("destination-type", "MULTICAST");
      } else {
        h.put("destination", ((Destination.Queue) d).name());
        h.put("destination-type", "ANYCAST");
      }
      m.header(Headers.PARTITION_KEY).ifPresent(key -> h.put("JMSXGroupID", key));
      m.header(Headers.CORRELATION_ID).ifPresent(c -> h.put("correlation-id", c));
      if (!delay.isZero()) {
        h.put("AMQ_SCHEDULED_DELAY", Long.toString(delay.toMillis()));
      }
      return h;
    }

    @Override
    Map<String, String> subscribeHeaders(Destination d, int prefetch, boolean temporary) {
      Map<String, String> h = new LinkedHashMap<>();
      if (d instanceof Destination.GroupQueue g) {
        h.put("destination", g.channel() + "::" + g.queueName());
        h.put("subscription-type", "MULTICAST");
      } else {
        h.put("destination", ((Destination.Queue) d).name());
        h.put("subscription-type", "ANYCAST");
      }
      // Artemis counts credit in bytes: about `prefetch` small messages in flight.
      h.put("consumer-window-size", Integer.toString(Math.max(1024, prefetch * 1024)));
      return h;
    }

    /**
     * STOMP's own {@code reply-to}, which Artemis passes on as the sender wrote it (it has no
     * {@code /temp-queue/} of its own): an anycast queue's plain name, like {@code
     * parley-reply-to}. A message a foreign AMQP 1.0 or JMS client sent, with none of Parley's
     * headers, comes with Artemis's renderings of its own fields: its message-id as {@code
     * NATIVE_MESSAGE_ID} (with Qpid JMS's {@code ID:AMQP_…:} prefixes), its correlation id as
     * {@code correlation-id}, its reply-to as {@code reply-to: queue://name} and its expiry time as
     * {@code expires} (epoch ms), which is its deadline — as Parley's AMQP 1.0 transport reads
     * those fields (docs/wire.md §1, §8.2).
     */
    @Override
    void readNative(StompFrame frame, Map<String, String> headers) {
      String replyTo = frame.header("reply-to");
      if (replyTo != null) {
        headers.putIfAbsent(Headers.REPLY_TO, queueName(replyTo));
      }
      String nativeId = headers.remove(NATIVE_MESSAGE_ID);
      if (nativeId != null && !nativeId.isEmpty()) {
        headers.putIfAbsent(Headers.ID, amqpId(nativeId));
      }
      String expires = frame.header("expires");
      if (expires != null && !expires.equals("0") && !headers.containsKey(Headers.DEADLINE)) {
        headers.put(Headers.DEADLINE, expires);
      }
    }

    /**
     * A reply address as Artemis renders an AMQP 1.0 (or JMS) sender's reply-to: {@code
     * queue://name} or {@code temp-queue://name}; the queue's name. Anything else (a STOMP sender's
     * plain name, a topic) as it is.
     */
    static String queueName(String replyTo) {
      for (String prefix : new String[] {"queue://", "temp-queue://"}) {
        if (replyTo.startsWith(prefix)) {
          return replyTo.substring(prefix.length());
        }
      }
      return replyTo;
    }

    /** Where Artemis puts an AMQP 1.0 message's message-id for its STOMP consumers. */
    static final String NATIVE_MESSAGE_ID = "NATIVE_MESSAGE_ID";

    /**
     * An AMQP message-id as Parley reads it over AMQP 1.0, from the text Artemis renders it with
     * ({@link AmqpIds#text}).
     */
    static String amqpId(String rendered) {
      return AmqpIds.text(rendered);
    }

    @Override
    boolean nackRequeues() {
      return false;
    }

    @Override
    boolean needsMembers() {
      return false;
    }
  }

  /**
   * RabbitMQ's STOMP plugin: events on {@code amq.topic} with routing key {@code
   * <channel>.<partition>}; queues declared by the plugin ({@code /queue/...}) or addressed as they
   * are ({@code /amq/queue/...}).
   */
  static final class RabbitMq extends Dialect {
    private final int partitions;

    /** Whether the durable queues the plugin declares are quorum queues ({@code x-queue-type}). */
    private final boolean quorum;

    RabbitMq(int partitions) {
      this(partitions, StompTransport.QueueType.CLASSIC);
    }

    RabbitMq(int partitions, StompTransport.QueueType queueType) {
      this.partitions = partitions;
      this.quorum = queueType == StompTransport.QueueType.QUORUM;
    }

    /** A durable queue's type, for the frame that may declare it. */
    private void durableQueueType(Map<String, String> h) {
      if (quorum) {
        h.put("x-queue-type", "quorum");
      }
    }

    @Override
    String name() {
      return "rabbitmq";
    }

    /** The partition of a key: the same on every client ({@link Partitions}). */
    int partition(String key) {
      return Partitions.of(key, partitions);
    }

    /** {@code /topic/<channel>.<word>}: a routing key, or a binding pattern on amq.topic. */
    static String topic(String channel, String word) {
      if (channel.indexOf('*') >= 0 || channel.indexOf('#') >= 0 || channel.indexOf('/') >= 0) {
        throw new IllegalArgumentException(
            "channel: '" + channel + "' (expected: no '*', '#' or '/' on RabbitMQ STOMP)");
      }
      return "/topic/" + channel + "." + word;
    }

    /**
     * The SEND header the plugin makes the AMQP 0-9-1 {@code message_id} property (and a MESSAGE
     * header of the same name again).
     */
    static final String MESSAGE_ID = "amqp-message-id";

    /** The SEND (and MESSAGE) header of the AMQP 0-9-1 {@code app_id} property. */
    static final String APP_ID = "app-id";

    /**
     * Parley's headers as SEND headers: the id, type, source and correlation id under the names the
     * plugin turns into AMQP 0-9-1 properties ({@code amqp-message-id}, {@code type}, {@code
     * app-id}, {@code correlation-id}), so that RabbitMQ stores the message as the AMQP 0-9-1
     * transport sends it (wire.md §7.1); every other header a line of its own name, which the
     * plugin keeps in the message's headers table. Each line that joins the table costs the plugin
     * more CPU than one it makes a property (measured in wire.md §8.3).
     */
    static Map<String, String> rabbitHeaders(Message m, boolean persistent) {
      Map<String, String> h = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : m.headers().entrySet()) {
        switch (e.getKey()) {
          case Headers.ID -> h.put(MESSAGE_ID, e.getValue());
          case Headers.TYPE -> h.put("type", e.getValue());
          case Headers.SOURCE -> h.put(APP_ID, e.getValue());
          case Headers.CORRELATION_ID -> h.put("correlation-id", e.getValue());
          default -> {
            if (StompMessages.isMessageHeader(e.getKey())) {
              ReservedHeaders.checkRabbitMq(e.getKey());
              h.put(e.getKey(), e.getValue());
            }
          }
        }
      }
      markPersistent(h, persistent);
      return h;
    }

    /**
     * The id, type and source from the properties the plugin writes back ({@code amqp-message-id},
     * {@code type}, {@code app-id}): what Parley's STOMP and AMQP 0-9-1 transports send, and any
     * AMQP 0-9-1 client's message_id, type and app_id. Neither {@code amqp-message-id} nor {@code
     * app-id} is kept as a header of its own.
     */
    @Override
    void readNative(StompFrame frame, Map<String, String> headers) {
      String id = headers.remove(MESSAGE_ID);
      if (id != null) {
        headers.putIfAbsent(Headers.ID, id);
      }
      String source = headers.remove(APP_ID);
      if (source != null) {
        headers.putIfAbsent(Headers.SOURCE, source);
      }
      String type = frame.header("type");
      if (type != null) {
        headers.putIfAbsent(Headers.TYPE, type);
      }
      String replyTo = frame.header("reply-to");
      if (replyTo != null) {
        headers.putIfAbsent(Headers.REPLY_TO, replyQueue(replyTo));
      }
    }

    /** The {@code reply-to} prefixes that name a queue: the queue's name follows. */
    private static final String[] QUEUE_PREFIXES = {"/reply-queue/", "/queue/", "/amq/queue/"};

    /**
     * The reply address a MESSAGE's {@code reply-to} names. The plugin writes an AMQP 0-9-1
     * client's {@code reply_to} (Parley's AMQP 0-9-1 transport, direct reply-to, a server-named
     * queue) and a STOMP client's {@code /temp-queue/…} (which it replaces by the exclusive queue
     * it made for it) as {@code /reply-queue/<queue>}, and keeps a STOMP client's {@code
     * /queue/<q>} or {@code /amq/queue/<q>} as it was: each is the queue's name, checked against
     * the service's allowed reply addresses like any other (RELIABILITY.md S6). Any other
     * destination ({@code /topic/…}, {@code /exchange/…}) stays as it is, which only an allowed
     * pattern lets a reply go to ({@link #sendHeaders} sends to it as it is).
     */
    static String replyQueue(String destination) {
      for (String prefix : QUEUE_PREFIXES) {
        if (destination.startsWith(prefix) && destination.length() > prefix.length()) {
          return destination.substring(prefix.length());
        }
      }
      return destination;
    }

    /**
     * RabbitMQ's own reply queues, which only their caller can consume: direct reply-to and the
     * server-named {@code amq.gen-…} queues (a STOMP {@code /temp-queue/} is one).
     */
    static boolean isNativeReplyQueue(String name) {
      return name.startsWith("amq.rabbitmq.reply-to") || name.startsWith("amq.gen-");
    }

    @Override
    Map<String, String> sendHeaders(Destination d, Message m, Duration delay, boolean persistent) {
      Map<String, String> h = rabbitHeaders(m, persistent);
      String exchange;
      String routingKey;
      if (d instanceof Destination.Event e) {
        String word =
            m.header(Headers.PARTITION_KEY).map(k -> Integer.toString(partition(k))).orElse("_");
        routingKey = e.channel() + "." + word;
        exchange = "amq.topic";
        h.put("destination", topic(e.channel(), word));
      } else if (d instanceof Destination.GroupQueue g) {
        exchange = "";
        routingKey = g.queueName();
        h.put("destination", "/amq/queue/" + g.queueName());
      } else {
        String name = ((Destination.Queue) d).name();
        exchange = "";
        routingKey = name;
        if (isNativeReplyQueue(name)) {
          // The broker's own reply queue (a caller's temp queue or direct reply-to): only
          // addressed; the broker drops a reply to one that is gone (no ERROR frame).
          h.put("destination", "/reply-queue/" + name);
        } else if (name.startsWith("/")) {
          // A STOMP destination a foreign caller gave as its reply-to, which the service allowed.
          h.put("destination", name);
        } else if (isReplyQueue(name)) {
          h.put("destination", "/amq/queue/" + name); // the caller's: only addressed
        } else {
          // The plugin declares a durable queue for /queue/ (so a command waits for its consumer)
          // and reads "persistent" also as that queue's durability (an alias of "durable"): a
          // transient reply to a foreign durable queue would fail the declaration.
          h.put("destination", "/queue/" + name);
          h.put("persistent", "true");
          durableQueueType(h);
        }
      }
      if (!delay.isZero()) {
        // A delay queue per delay and target: messages wait out the TTL, then RabbitMQ
        // dead-letters them to where they were going.
        h.put(
            "destination",
            "/queue/parley.delay."
                + delay.toMillis()
                + "."
                + (exchange.isEmpty() ? "" : "t.")
                + routingKey);
        h.put("x-message-ttl", Long.toString(delay.toMillis()));
        h.put("x-dead-letter-exchange", exchange);
        h.put("x-dead-letter-routing-key", routingKey);
        h.remove("x-queue-type");
        durableQueueType(h);
      }
      return h;
    }

    @Override
    Map<String, String> subscribeHeaders(Destination d, int prefetch, boolean temporary) {
      Map<String, String> h = new LinkedHashMap<>();
      if (d instanceof Destination.GroupQueue g) {
        h.put("destination", topic(g.channel(), "*"));
        h.put("x-queue-name", g.queueName());
        h.put("durable", "true");
        h.put("auto-delete", "false");
        durableQueueType(h);
      } else {
        String name = ((Destination.Queue) d).name();
        h.put("destination", "/queue/" + name);
        if (temporary) {
          h.put("durable", "false");
          h.put("auto-delete", "true");
        } else {
          durableQueueType(h);
        }
      }
      h.put("prefetch-count", Integer.toString(prefetch));
      return h;
    }

    /** SUBSCRIBE headers for partition {@code p} of a partitioned group. */
    Map<String, String> partitionHeaders(Destination.GroupQueue g, int p, int prefetch) {
      Map<String, String> h = new LinkedHashMap<>();
      h.put("destination", topic(g.channel(), Integer.toString(p)));
      h.put("x-queue-name", g.queueName() + ".p" + p);
      h.put("durable", "true");
      h.put("auto-delete", "false");
      durableQueueType(h);
      h.put("prefetch-count", Integer.toString(prefetch));
      return h;
    }

    /** Where the members of a partitioned group announce themselves. */
    String membersTopic(Destination.GroupQueue g) {
      return topic("parley.members." + g.channel(), g.group());
    }

    int partitions() {
      return partitions;
    }

    @Override
    boolean nackRequeues() {
      return true;
    }

    @Override
    boolean needsMembers() {
      return true;
    }
  }
}
