package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.parley.error.TransportException;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.Durations;
import dev.parley.transport.spi.PartitionGroup;
import dev.parley.transport.spi.TransportSubscription;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription's share of a partitioned destination: a {@link PartitionGroup} (the member
 * protocol and rebalancing every broker-assigned-partition transport shares) whose announcements go
 * through a fanout exchange ({@code <queue>.members}) and whose members consume partition queues.
 *
 * <p>Partition queues are single-active-consumer queues, so while two members briefly disagree
 * about an assignment the broker still lets only one of them consume a partition: a member takes a
 * partition at once (no hand-over wait), and the member giving it up finishes the messages in hand
 * and stops its consumer, which returns the rest to the queue in order before the next owner
 * becomes active.
 */
final class PartitionedSubscription implements TransportSubscription, PartitionGroup.Broker {

  private static final Logger log = LoggerFactory.getLogger(PartitionedSubscription.class);

  private static final Map<String, Object> INBOX_ARGUMENTS = Map.of("x-max-length", 1000);

  private final Connection connection;
  private final String queue;
  private final Destination source;
  private final int prefetch;
  private final Duration closeTimeout;
  private final Duration rpcTimeout;
  private final DeliveryHandler handler;
  private final String exchange;
  private final PartitionGroup group;
  private volatile Channel control;
  private volatile String controlTag;
  private final Map<String, Resumable> consumersByTag;

  /** When closing, the deadline of the handlers in progress ({@link System#nanoTime}); else 0. */
  private volatile long closing;

  /** The transport's timer: where the partitions' consumers make their own broker calls. */
  private final ScheduledExecutorService timer;

  PartitionedSubscription(
      Connection connection,
      String queue,
      Destination source,
      int partitions,
      int concurrency,
      int prefetch,
      Duration heartbeat,
      Duration closeTimeout,
      Duration rpcTimeout,
      ScheduledExecutorService timer,
      DeliveryHandler handler,
      Map<String, Resumable> consumersByTag) {
    this.consumersByTag = consumersByTag;
    this.connection = connection;
    this.queue = queue;
    this.source = source;
    this.prefetch = prefetch;
    this.closeTimeout = closeTimeout;
    this.rpcTimeout = rpcTimeout;
    this.handler = handler;
    this.timer = timer;
    this.exchange = queue + ".members";
    this.group =
        new PartitionGroup(
            queue, partitions, concurrency, heartbeat, Duration.ZERO, true, this, timer);
  }

  void start() {
    listen();
    group.start(Duration.ZERO);
  }

  /** Opens the members channel: a server-named queue bound to the announcements' exchange. */
  private void listen() {
    Channel ch = null;
    try {
      ch = connection.createChannel();
      ch.exchangeDeclare(exchange, Topology.FANOUT, false, true, null);
      // Bounded: an inbox whose consumer a recovery lost (it lives as long as the connection)
      // keeps only the latest announcements instead of every one until the connection ends.
      String inbox = ch.queueDeclare("", false, true, true, INBOX_ARGUMENTS).getQueue();
      ch.queueBind(inbox, exchange, "");
      String tag = ch.basicConsume(inbox, true, new Listener(ch));
      control = ch;
      String old = controlTag;
      if (old != null) {
        consumersByTag.remove(old, announcements);
      }
      controlTag = tag;
      consumersByTag.put(tag, announcements);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        QueueConsumer.abortQuietly(ch, exchange);
      }
      throw new TransportException(
          "parley.transport.subscribe",
          "cannot join the members of " + queue + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * The members channel's consumer, started again like a partition's when a recovery could not
   * restore it: without it the member hears nobody, and would take every partition.
   */
  private final Resumable announcements =
      new Resumable() {
        @Override
        public boolean resume() {
          synchronized (PartitionedSubscription.this) {
            if (closing != 0) {
              return true;
            }
            Channel old = control;
            if (old != null) {
              QueueConsumer.abortQuietly(old, exchange);
            }
            try {
              listen();
              return true;
            } catch (TransportException e) {
              log.debug("{}: cannot listen to the members yet: {}", queue, e.getMessage());
              return false;
            }
          }
        }

        @Override
        public boolean isConsuming() {
          Channel ch = control;
          return closing != 0 || ch == null || ch.isOpen();
        }

        @Override
        public String describe() {
          return queue + " (members)";
        }
      };

  /**
   * The tag a member consumes a partition under, so {@code rabbitmqctl list_consumers} shows who
   * owns which partition: {@code parley.member.<member id>.p<partition>}.
   */
  static String consumerTag(String member, int partition) {
    return "parley.member." + member + ".p" + partition;
  }

  @Override
  public void announce(byte[] announcement) {
    Channel ch = control;
    if (ch == null || !ch.isOpen()) {
      return;
    }
    try {
      ch.basicPublish(exchange, "", null, announcement);
    } catch (IOException e) {
      throw new TransportException("parley.transport.unavailable", e.getMessage(), e);
    }
  }

  /**
   * Handlers in hand, then the broker's answers to the acks' flush and the channel's close (each
   * bounded by the RPC timeout).
   */
  @Override
  public Duration stopTimeout() {
    return closeTimeout.plus(rpcTimeout.multipliedBy(3));
  }

  @Override
  public AutoCloseable consume(String member, int partition) {
    QueueConsumer c =
        new QueueConsumer(
            connection,
            Topology.partitionQueue(queue, partition),
            source,
            prefetch,
            handler,
            consumerTag(member, partition),
            true,
            false,
            null, // events: no replies
            consumersByTag,
            timer);
    c.start();
    return () -> c.stop(closing == 0 ? closeTimeout : Durations.until(closing));
  }

  @Override
  public void close() {
    close(System.nanoTime() + closeTimeout.toNanos());
  }

  /**
   * Stops the members' consumers, which wait for their handlers in progress until {@code deadline}
   * ({@link System#nanoTime}) in all, then leaves the group.
   */
  void close(long deadline) {
    synchronized (this) { // not while the members channel is being opened again
      closing = deadline == 0 ? 1 : deadline;
      String tag = controlTag;
      if (tag != null) {
        consumersByTag.remove(tag, announcements);
      }
    }
    group.close();
    try {
      Channel ch = control;
      if (ch != null) {
        ch.close(); // also when down: it leaves the client's recovery that way
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      log.debug("{}: closing the members channel failed: {}", queue, e.toString());
    }
  }

  private final class Listener extends DefaultConsumer {
    Listener(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      group.heard(body);
    }
  }
}
