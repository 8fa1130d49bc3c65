package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.parley.error.TransportException;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.LogLimiter;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer on one queue, on a channel of its own with manual acks and a prefetch. Deliveries
 * are handed to the handler one at a time on {@code worker} (shared by the consumers of one
 * partitioned-group member, so a member handles one message at a time). A delivery is acked when
 * the handler's stage succeeds and nacked with requeue when it fails.
 *
 * <p>When the connection drops, RabbitMQ requeues every unacked delivery; the ones still waiting
 * for the worker are then dropped here (they come again, in order, after the recovery).
 */
final class QueueConsumer {

  private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);

  /** A requeue repeats with every redelivery: bounded, so no message can flood the log. */
  private static final LogLimiter RELEASES = LogLimiter.of(10, 10);

  private final Connection connection;
  private final String queue;
  private final Destination source;
  private final int prefetch;
  private final ExecutorService worker;
  private final DeliveryHandler handler;
  private final String consumerTag;
  private final AtomicLong generation = new AtomicLong();

  /** Acknowledge at least every this many deliveries (one {@code basic.ack multiple}). */
  static final int ACK_BATCH = 64;

  /** Deliveries handed to the worker and not yet handled. */
  private final java.util.concurrent.atomic.AtomicInteger queued =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Handled deliveries not acknowledged yet, and the last one's tag (worker thread only). */
  private int unacked;

  private long lastHandled;
  private volatile boolean stopped;
  private Channel channel;

  QueueConsumer(
      Connection connection,
      String queue,
      Destination source,
      int prefetch,
      ExecutorService worker,
      DeliveryHandler handler) {
    this(connection, queue, source, prefetch, worker, handler, "");
  }

  /**
   * @param consumerTag the tag the broker lists the consumer under ({@code rabbitmqctl
   *     list_consumers}); empty for one the broker makes up
   */
  QueueConsumer(
      Connection connection,
      String queue,
      Destination source,
      int prefetch,
      ExecutorService worker,
      DeliveryHandler handler,
      String consumerTag) {
    this.consumerTag = consumerTag;
    this.connection = connection;
    this.queue = queue;
    this.source = source;
    this.prefetch = prefetch;
    this.worker = worker;
    this.handler = handler;
  }

  String queue() {
    return queue;
  }

  void start() {
    try {
      Channel ch = connection.createChannel();
      if (ch == null) {
        throw new IOException("no channel available on the connection");
      }
      ch.addShutdownListener(cause -> generation.incrementAndGet());
      ch.basicQos(prefetch);
      ch.basicConsume(queue, false, consumerTag, new Receiver(ch));
      channel = ch;
    } catch (IOException | RuntimeException e) {
      throw new TransportException(
          "parley.transport.subscribe", "cannot consume from " + queue + ": " + e.getMessage(), e);
    }
  }

  /**
   * Stops handing deliveries to the handler, waits up to {@code timeout} for the one being handled,
   * then closes the channel: RabbitMQ requeues every delivery not acked, in order.
   */
  void stop(Duration timeout) {
    if (stopped) {
      return;
    }
    stopped = true;
    Channel ch = channel;
    if (ch == null) {
      return;
    }
    try {
      CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {}, worker);
      drained.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // the worker is already shut down: nothing is being handled
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("{}: a delivery was still being handled after {}; closing anyway", queue, timeout);
    }
    // Close even a channel that is down right now: closing is also what takes it (and its
    // consumer) out of the client's automatic recovery. A stopped consumer brought back by a
    // recovery would hold its deliveries unacknowledged forever (and, being single-active, could
    // stall its partition).
    try {
      ch.close();
    } catch (IOException | TimeoutException | RuntimeException e) {
      log.debug("{}: closing the consumer channel: {}", queue, e.toString());
    }
  }

  private void handle(
      Channel ch, long gen, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    try {
      handleOne(ch, gen, envelope, props, body);
    } finally {
      queued.decrementAndGet();
    }
  }

  private void flushAcks(Channel ch) {
    if (unacked == 0) {
      return;
    }
    unacked = 0;
    try {
      ch.basicAck(lastHandled, true);
    } catch (IOException | RuntimeException e) {
      log.debug("{}: acknowledging up to {} failed: {}", queue, lastHandled, e.toString());
    }
  }

  private void handleOne(
      Channel ch, long gen, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    if (stopped || gen != generation.get()) {
      if (gen == generation.get()) {
        flushAcks(ch); // stopping: settle what was handled; the rest is requeued on close
      }
      unacked = 0;
      return; // not acked: RabbitMQ requeued it (or will, when this channel closes)
    }
    long tag = envelope.getDeliveryTag();
    boolean ok;
    try {
      int count = RabbitMessages.deliveryCount(props, envelope.isRedeliver());
      ok = awaitQuietly(handler.onDelivery(RabbitMessages.delivery(props, body, source, count)));
    } catch (RuntimeException e) {
      RELEASES.warn(log, "{}: delivery handler failed: {}", queue, e.toString());
      ok = false;
    }
    if (gen != generation.get()) {
      unacked = 0;
      return; // the channel closed meanwhile; the delivery was requeued
    }
    try {
      if (ok) {
        // Deliveries are settled in order on this one thread, so one ack with multiple=true
        // settles every earlier one: ack when nothing else is waiting, or every ACK_BATCH.
        unacked++;
        lastHandled = tag;
        if (unacked >= ACK_BATCH || queued.get() <= 1 || stopped) {
          flushAcks(ch);
        }
      } else {
        flushAcks(ch);
        ch.basicNack(tag, false, true);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("{}: settling delivery {} failed: {}", queue, tag, e.toString());
    }
  }

  private static boolean awaitQuietly(java.util.concurrent.CompletionStage<Void> stage) {
    try {
      stage.toCompletableFuture().join();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private final class Receiver extends DefaultConsumer {
    Receiver(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      long gen = generation.get();
      Channel ch = getChannel();
      queued.incrementAndGet();
      try {
        worker.execute(() -> handle(ch, gen, envelope, properties, body));
      } catch (RejectedExecutionException e) {
        queued.decrementAndGet();
        // closing: the delivery stays unacked and is requeued when the channel closes
      }
    }

    @Override
    public void handleCancel(String consumerTag) {
      if (!stopped) {
        log.warn("{}: RabbitMQ cancelled the consumer (queue deleted?)", queue);
      }
    }

    @Override
    public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
      if (!stopped && !sig.isHardError()) {
        log.warn("{}: consumer channel closed: {}", queue, sig.getMessage());
      }
    }
  }
}
