package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.parley.error.TransportException;
import dev.parley.internal.Payloads;
import dev.parley.message.Message;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.InFlight;
import dev.parley.transport.spi.LogLimiter;
import dev.parley.transport.spi.Settlement;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer on one queue, on a channel of its own with manual acks and {@code basic.qos
 * prefetch}. Deliveries are pushed to the handler on amqp-client's consumer dispatch thread (one
 * per channel, in the queue's order) without waiting for earlier ones; RabbitMQ stops sending when
 * {@code prefetch} of them are unacknowledged. Each is settled when its {@link Settlement} says,
 * from any thread: {@code basic.ack}, {@code basic.nack requeue=true} or {@code requeue=false}.
 *
 * <p>When the connection drops, RabbitMQ requeues every unacked delivery; their settlements are
 * then withdrawn (they come again, in order, after the recovery) and send nothing.
 */
final class QueueConsumer implements Resumable {

  private static final Logger log = LoggerFactory.getLogger(QueueConsumer.class);

  /** A requeue repeats with every redelivery: bounded, so no message can flood the log. */
  private static final LogLimiter RELEASES = LogLimiter.of(10, 10);

  /** Attempts to consume again repeat every recovery interval while the broker refuses. */
  private static final LogLimiter RESUMES = LogLimiter.of(5, 60);

  private final Connection connection;
  private final String queue;
  private final Destination source;
  private final int prefetch;
  private final DeliveryHandler handler;
  private final String consumerTag;
  private final AtomicLong generation = new AtomicLong();
  private final InFlight inFlight = new InFlight();
  private volatile boolean stopped;
  private volatile Channel channel;
  private volatile String activeTag;

  /** The channel on which RabbitMQ cancelled this consumer (basic.cancel), if it did. */
  private volatile Channel cancelledOn;

  /** The transport's consumers by tag: to consume again when a recovery did not restore one. */
  private final Map<String, Resumable> registry;

  /*
   * Ack coalescing (guarded by acks): deliveries settled in the order they came are acknowledged
   * together, basic.ack multiple=true up to the longest settled prefix, at least every `hold` of
   * them and whenever the consumer goes idle; one settled past a gap (an earlier delivery still
   * running or waiting for a retry) is acknowledged on its own at once, so a slow delivery never
   * holds back the acks of later ones (nor the prefetch window they free).
   */
  private final Object acks = new Object();
  private final java.util.TreeSet<Long> settledAhead = new java.util.TreeSet<>();
  private long ackGeneration = -1;

  /**
   * The first tag this channel leaves unacknowledged for good (a dead letter too large to read), 0
   * for none: the prefix never passes it — a multiple ack would take it too — so tags settled after
   * it are acknowledged on their own and not remembered.
   */
  private long leftFrom;

  /** Whether {@code tag} comes before the first tag left unacknowledged for good. Holding acks. */
  private boolean beforeLeft(long tag) {
    return leftFrom == 0 || tag < leftFrom;
  }

  private long settledPrefix;
  private long ackedPrefix;

  /** The last tag settled in order and not acknowledged yet (0: none), and how many there are. */
  private long heldTag;

  private int held;
  private final int hold;

  /** Whether the queue is a single-active-consumer queue (a partition). */
  private final boolean singleActive;

  /**
   * Whether RabbitMQ acknowledges each delivery as it sends it ({@code no-ack}): for a temporary
   * queue (a reply queue). Such a queue is exclusive to this connection and deleted with it, so a
   * manual acknowledgement would keep nothing safe that the queue itself does not lose; without it
   * the broker does no acknowledgement work and the consumer sends none. Deliveries are then not
   * limited by the prefetch (a reply queue holds only answers to this instance's requests), and a
   * requeue drops the message.
   */
  private final boolean autoAck;

  /** Whether replies may be published on this consumer's channel now; null: never. */
  private final BooleanSupplier mayPublish;

  /** Where this consumer's own calls to the broker run, off amqp-client's threads. */
  private final Executor chores;

  /**
   * Deliveries of the current consumer left unacknowledged for good (dead letters too large to
   * read): they hold its prefetch until the channel closes, so at half of it the consumer is
   * replaced on the same channel ({@link #consumeAgainBeside}), where they stay unacknowledged.
   */
  private final AtomicInteger leftOnConsumer = new AtomicInteger();

  private final AtomicBoolean consumingAgain = new AtomicBoolean();

  /**
   * @param consumerTag the tag the broker lists the consumer under ({@code rabbitmqctl
   *     list_consumers}); empty for one the broker makes up
   * @param singleActive whether the queue is a single-active-consumer queue
   * @param temporary whether the queue is a temporary (reply) queue, consumed with {@code no-ack}
   * @param mayPublish whether the consumer's connection may publish now, for replies sent in order
   *     with their requests' acknowledgements ({@link Settlement#replyInOrder}); null: it never
   *     sends them
   * @param registry the transport's consumers by consumer tag, which this one joins while it runs
   * @param chores where the consumer's own calls to the broker run (never amqp-client's threads)
   */
  QueueConsumer(
      Connection connection,
      String queue,
      Destination source,
      int prefetch,
      DeliveryHandler handler,
      String consumerTag,
      boolean singleActive,
      boolean temporary,
      BooleanSupplier mayPublish,
      Map<String, Resumable> registry,
      Executor chores) {
    this.registry = registry;
    this.chores = chores;
    this.singleActive = singleActive;
    this.hold = Math.max(1, Math.min(32, prefetch / 4));
    this.consumerTag = consumerTag;
    this.connection = connection;
    this.queue = queue;
    this.source = source;
    this.prefetch = prefetch;
    this.handler = handler;
    this.autoAck = temporary;
    this.mayPublish = mayPublish;
  }

  @Override
  public String describe() {
    return queue;
  }

  /** The channel it consumes on now (fault tests). */
  Channel channel() {
    return channel;
  }

  @Override
  public boolean isConsuming() {
    Channel ch = channel;
    return stopped || ch == null || (ch.isOpen() && ch != cancelledOn);
  }

  /** Deliveries pushed to the handler and not settled yet. */
  int unsettled() {
    return inFlight.count();
  }

  void start() {
    Channel ch = null;
    try {
      ch = connection.createChannel();
      if (ch == null) {
        throw new IOException("no channel available on the connection");
      }
      ch.addShutdownListener(cause -> generation.incrementAndGet());
      ch.basicQos(prefetch);
      String tag = ch.basicConsume(queue, autoAck, consumerTag, new Receiver(ch));
      activeTag = tag;
      channel = ch;
      registry.put(tag, this);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        abortQuietly(ch, queue);
      }
      throw new TransportException(
          "parley.transport.subscribe", "cannot consume from " + queue + ": " + reason(e), e);
    }
  }

  /** The first message along the causes (a refused consume's is on its shutdown signal). */
  private static String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null) {
        return t.getMessage();
      }
    }
    return e.toString();
  }

  /**
   * Consumes again, on a new channel, after the connection's recovery could not restore this
   * consumer (the broker did not answer in time, or refused it for a while): otherwise the queue
   * would go unconsumed for good. The old channel is closed first, so a late answer cannot start
   * deliveries to a consumer nobody reads. Returns whether it consumes again (or was stopped); on
   * false the caller tries again later. Deliveries handled meanwhile were requeued by the broker.
   */
  @Override
  public synchronized boolean resume() {
    if (stopped) {
      return true;
    }
    Channel old = channel;
    if (old != null) {
      abortQuietly(old, queue);
    }
    String oldTag = activeTag;
    if (oldTag != null) {
      registry.remove(oldTag, this);
    }
    try {
      start();
      log.info("{}: consuming again on a new channel", queue);
      return true;
    } catch (TransportException e) {
      RESUMES.warn(log, "{}: cannot consume again yet: {}", queue, e.getMessage());
      return false;
    }
  }

  /**
   * Replaces the consumer on its channel by a new one, so the deliveries the old one leaves
   * unacknowledged for good (dead letters too large to read) no longer count against its prefetch:
   * RabbitMQ counts a consumer's prefetch by its own deliveries, while a cancelled consumer's
   * unacknowledged ones stay with the channel until it closes. The broker answers the cancel after
   * what it delivered before, which the old consumer still takes. Called on {@code chores}: it
   * waits for the broker. When the cancel went through and the consume did not, the consumer watch
   * consumes again on a new channel.
   */
  private synchronized void consumeAgainBeside() {
    Channel ch = channel;
    String old = activeTag;
    try {
      if (stopped || ch == null || !ch.isOpen() || old == null) {
        return; // stopping, or a new channel: the broker gave the left ones back
      }
      leftOnConsumer.set(0);
      ch.basicCancel(old);
      registry.remove(old, this);
      activeTag = null;
      String tag = ch.basicConsume(queue, autoAck, consumerTag, new Receiver(ch));
      activeTag = tag;
      registry.put(tag, this);
      log.debug("{}: consuming again beside the dead letters it cannot read", queue);
    } catch (IOException | RuntimeException e) {
      if (activeTag == null) {
        cancelledOn = ch; // not consuming: the consumer watch consumes again
      }
      log.warn("{}: cannot consume again beside its unread dead letters: {}", queue, e.toString());
    } finally {
      consumingAgain.set(false);
    }
  }

  /** Closes {@code ch} without waiting for the broker beyond the RPC timeout, nor failing. */
  static void abortQuietly(Channel ch, String queue) {
    try {
      ch.abort();
    } catch (IOException | RuntimeException e) {
      log.debug("{}: closing a channel: {}", queue, e.toString());
    }
  }

  /**
   * Stops pushing deliveries, waits up to {@code timeout} for the ones being handled to be settled
   * (those not started are withdrawn), then closes the channel: RabbitMQ requeues every delivery
   * not acked, in order.
   */
  void stop(Duration timeout) {
    Channel ch;
    synchronized (this) { // not while resume() swaps the channel
      if (stopped) {
        return;
      }
      stopped = true;
      ch = channel;
      String tag = activeTag;
      if (tag != null) {
        registry.remove(tag, this);
      }
    }
    if (ch == null) {
      return;
    }
    // Not while the connection is down: an ack could not reach the broker, which requeues them.
    if (!inFlight.awaitIdle(timeout, ch::isOpen)) {
      log.warn(
          "{}: {} deliveries still being handled after {}; closing anyway (they are requeued)",
          queue,
          inFlight.count(),
          timeout);
    }
    synchronized (acks) {
      if (ch.isOpen()) {
        try {
          sendHeldAcks(ch);
        } catch (IOException | RuntimeException e) {
          log.debug("{}: acknowledging up to {} failed: {}", queue, heldTag, e.toString());
        }
      }
    }
    flushAcks(ch);
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

  /**
   * Acknowledges, with one {@code basic.ack multiple=true}, the deliveries settled in order and
   * held. Its tag is the last of them, which the broker still has unacknowledged (a tag acked or
   * nacked on its own would be "unknown" to a multiple ack); those settled on their own in between
   * are not outstanding and the multiple ack passes over them. Called holding {@code acks}.
   */
  private void sendHeldAcks(Channel ch) throws IOException {
    if (held > 0 && heldTag > ackedPrefix) {
      ch.basicAck(heldTag, true);
    }
    held = 0;
    heldTag = 0;
    ackedPrefix = settledPrefix;
  }

  /**
   * Makes sure the broker has applied the acks sent on {@code ch} before the channel closes. A
   * quorum queue applies acks asynchronously, and it took a channel's end as "everything
   * unacknowledged goes back" before applying acks already on their way, so messages handled and
   * acknowledged were delivered again (TCK: membersJoinWhileABacklogWaits). A cancel is answered
   * only after the queue applied what the channel sent before it. On a single-active-consumer queue
   * cancelling this consumer would hand the queue to the next member while this channel still holds
   * the messages it did not handle (they would come back after newer ones: order broken), so a
   * probe consumer — waiting, never active — is registered and cancelled instead; the close that
   * follows then returns those messages and hands over the queue at once.
   */
  private void flushAcks(Channel ch) {
    if (!ch.isOpen() || !connection.isOpen()) {
      return; // nothing to flush: the broker requeued what this channel held
    }
    try {
      if (singleActive) {
        String probe = ch.basicConsume(queue, false, new DefaultConsumer(ch));
        ch.basicCancel(probe);
      } else if (activeTag != null) {
        ch.basicCancel(activeTag);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("{}: waiting for the acks to be applied: {}", queue, e.toString());
    }
  }

  /** The settlement of one delivery, valid while its channel is the one that delivered it. */
  private final class Tag implements Settlement {
    private final Channel ch;
    private final long gen;
    private final long tag;

    Tag(Channel ch, long gen, long tag) {
      this.ch = ch;
      this.gen = gen;
      this.tag = tag;
    }

    @Override
    public boolean isWithdrawn() {
      return stopped || gen != generation.get();
    }

    @Override
    public void ack() {
      if (autoAck || gen != generation.get()) {
        return; // acknowledged on receipt, or the channel closed meanwhile (it was requeued)
      }
      try {
        synchronized (acks) {
          if (gen != ackGeneration) {
            return;
          }
          if (tag != settledPrefix + 1) {
            ch.basicAck(tag, false); // past a gap: on its own, now
            if (beforeLeft(tag)) {
              settledAhead.add(tag);
            }
            return;
          }
          settledPrefix = tag;
          heldTag = tag;
          held++;
          while (settledAhead.remove(settledPrefix + 1)) {
            settledPrefix++;
          }
          // inFlight still counts this delivery: 1 means nothing else is being handled.
          if (held >= hold || inFlight.count() <= 1 || stopped) {
            sendHeldAcks(ch);
          }
        }
      } catch (IOException | RuntimeException e) {
        log.debug("{}: acknowledging {} failed: {}", queue, tag, e.toString());
      }
    }

    /** A nacked delivery counts as settled for the prefix (a later multiple ack skips it). */
    private void settledAlone() {
      synchronized (acks) {
        if (gen != ackGeneration) {
          return;
        }
        if (tag == settledPrefix + 1) {
          settledPrefix = tag;
          while (settledAhead.remove(settledPrefix + 1)) {
            settledPrefix++;
          }
        } else if (beforeLeft(tag)) {
          settledAhead.add(tag);
        }
      }
    }

    /** This delivery stays unacknowledged for good (see leftFrom). */
    void leftUnacknowledged() {
      synchronized (acks) {
        if (gen == ackGeneration && beforeLeft(tag)) {
          leftFrom = tag;
        }
      }
    }

    @Override
    public void requeue() {
      if (autoAck || isWithdrawn()) {
        return; // closing the channel requeues it, in order
      }
      RELEASES.warn(log, "{}: a delivery was not handled; RabbitMQ delivers it again", queue);
      nack(true);
    }

    @Override
    public void reject() {
      if (autoAck || gen != generation.get()) {
        return;
      }
      nack(false);
    }

    /**
     * Publishes the reply on the channel that delivered the request, before the request's
     * acknowledgement: RabbitMQ handles a channel's commands in order, so it has routed the reply
     * before it applies the acknowledgement, and a channel lost in between loses the
     * acknowledgement too (the request comes again). Not while RabbitMQ blocks publishing: a
     * consuming connection that publishes then would be blocked with its acknowledgements.
     */
    @Override
    public CompletableFuture<Void> replyInOrder(Destination.Queue replyTo, Message reply) {
      BooleanSupplier may = mayPublish;
      if (may == null || autoAck || isWithdrawn() || !may.getAsBoolean()) {
        return null;
      }
      try {
        ch.basicPublish(
            "",
            Topology.queueName(replyTo),
            false,
            RabbitMessages.toProperties(reply, false),
            Payloads.shared(reply));
        return CompletableFuture.completedFuture(null);
      } catch (IOException | RuntimeException e) {
        return CompletableFuture.failedFuture(
            new TransportException(
                "parley.transport.unavailable", "reply not sent: " + e.getMessage(), e));
      }
    }

    private void nack(boolean requeue) {
      try {
        synchronized (acks) {
          if (gen == ackGeneration) {
            sendHeldAcks(ch); // keep the prefix's acks ahead of the nack
          }
        }
        settledAlone();
        ch.basicNack(tag, false, requeue);
      } catch (IOException | RuntimeException e) {
        log.debug("{}: settling delivery {} failed: {}", queue, tag, e.toString());
      }
    }
  }

  private final class Receiver extends DefaultConsumer {
    Receiver(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      if (stopped) {
        return; // not acked: requeued when this channel closes
      }
      Channel ch = getChannel();
      long gen = generation.get();
      synchronized (acks) {
        if (gen != ackGeneration) {
          // A new channel (or a recovered one): tags of the old one are settled by the broker.
          ackGeneration = gen;
          settledAhead.clear();
          leftFrom = 0;
          settledPrefix = envelope.getDeliveryTag() - 1;
          ackedPrefix = settledPrefix;
          heldTag = 0;
          held = 0;
        }
      }
      Map<String, Object> table = properties.getHeaders();
      Object notRead = table == null ? null : table.get(HeaderTableGuard.BODY_NOT_READ);
      if (notRead != null) {
        bodyNotRead(
            new Tag(ch, gen, envelope.getDeliveryTag()),
            String.valueOf(notRead),
            properties,
            envelope.isRedeliver());
        return;
      }
      Settlement settlement = inFlight.track(new Tag(ch, gen, envelope.getDeliveryTag()));
      Delivery delivery;
      try {
        int count = RabbitMessages.deliveryCount(properties, envelope.isRedeliver());
        delivery = RabbitMessages.delivery(properties, body, source, count);
      } catch (RuntimeException e) {
        RELEASES.warn(log, "{}: cannot read a delivery: {}", queue, e.toString());
        settlement.requeue();
        return;
      }
      try {
        handler.onDelivery(delivery, settlement);
      } catch (RuntimeException | Error e) { // an Error would make amqp-client close the channel
        RELEASES.warn(log, "{}: delivery handler failed: {}", queue, e.toString());
        settlement.requeue();
      }
    }

    /**
     * A message whose body the connection did not read (over its maximum, HeaderTableGuard):
     * rejected, so that RabbitMQ moves it whole to the queue's dead-letter queue ({@code x-death}
     * reason {@code rejected}); Parley could only dead-letter a copy without its body. On a
     * dead-letter queue, which has none, it is left unacknowledged in its place for an operator
     * (not counted in flight, so a close does not wait for it; it holds one of the consumer's
     * prefetch until the channel closes, so at half of it the consumer is replaced beside them:
     * consumeAgainBeside); on a reply queue, consumed without acknowledgements, it is gone, and its
     * caller told (DeliveryHandler#onDropped).
     */
    private void bodyNotRead(
        Tag settlement, String why, AMQP.BasicProperties properties, boolean redelivered) {
      if (autoAck) {
        RELEASES.warn(log, "{}: a reply dropped: {}", queue, why);
        tellHandler(why, properties, redelivered, true); // its caller fails at once
      } else if (Topology.isDeadLetterQueue(queue)) {
        RELEASES.warn(
            log,
            "{}: a dead letter left unacknowledged in the queue: {}; move it by hand or raise"
                + " RabbitTransport.Builder.maxInboundMessageSize",
            queue,
            why);
        settlement.leftUnacknowledged();
        if (leftOnConsumer.incrementAndGet() >= Math.max(1, prefetch / 2)
            && consumingAgain.compareAndSet(false, true)) {
          try {
            chores.execute(QueueConsumer.this::consumeAgainBeside);
          } catch (RejectedExecutionException e) {
            consumingAgain.set(false); // closing
          }
        }
      } else {
        RELEASES.warn(
            log, "{}: a message rejected to its dead-letter queue, whole: {}", queue, why);
        inFlight.track(settlement).reject();
        tellHandler(why, properties, redelivered, false);
      }
    }

    /**
     * Tells the handler of a message rejected to its dead-letter queue ({@link
     * DeliveryHandler#onDeadLettered}) or, a reply, dropped ({@link DeliveryHandler#onDropped}):
     * its headers (the guard kept a readable table), and why.
     */
    private void tellHandler(
        String why, AMQP.BasicProperties properties, boolean redelivered, boolean dropped) {
      try {
        Map<String, Object> table = new HashMap<>(properties.getHeaders());
        table.remove(HeaderTableGuard.BODY_NOT_READ);
        AMQP.BasicProperties read = properties.builder().headers(table).build();
        DeliveryHandler.tellTooLarge(
            handler,
            RabbitMessages.delivery(
                read, new byte[0], source, RabbitMessages.deliveryCount(properties, redelivered)),
            why,
            dropped);
      } catch (RuntimeException | Error e) {
        RELEASES.warn(log, "{}: delivery handler failed: {}", queue, e.toString());
      }
    }

    @Override
    public void handleCancel(String consumerTag) {
      if (!stopped) {
        // The queue was deleted (or RabbitMQ gave up the consumer otherwise): the transport's
        // consumer watch consumes again, once the queue is there again.
        cancelledOn = getChannel();
        log.warn("{}: RabbitMQ cancelled the consumer (queue deleted?)", queue);
      }
    }

    @Override
    public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
      if (!stopped && !sig.isHardError() && !sig.isInitiatedByApplication()) {
        // amqp-client recovers a channel only with its connection: the transport's consumer
        // watch consumes again on a new channel.
        log.warn("{}: RabbitMQ closed the consumer channel: {}", queue, sig.getMessage());
      }
    }
  }
}
