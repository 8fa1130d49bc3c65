package dev.parley.transport.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownSignalException;
import dev.parley.error.TransportException;
import dev.parley.transport.spi.PendingSends;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Publishes on one confirm-mode channel with a bounded, pipelined window of unconfirmed messages. A
 * publish completes on the broker's {@code basic.ack} (for a persistent message on a durable queue:
 * after it is written to disk, and for a quorum queue after a majority has it), fails on {@code
 * basic.nack}, on a {@code basic.return} of a mandatory message (no queue to route to), when the
 * channel or connection closes before the confirm (the outcome is then unknown), and after the send
 * timeout. Publishing happens on the caller's thread under a lock: no thread hop.
 *
 * <p>Confirms arrive on amqp-client's I/O thread, which must never block: a stage chained on a
 * publish (the next send of a key, a topology check, a dead letter after a reply) would run there
 * and wait for an answer only that thread can read. So the I/O thread only settles the window and
 * the pending map; the futures are completed on {@code completer}, one task per confirm frame.
 */
final class Publisher implements ConfirmListener, ReturnListener {

  private final Connection connection;
  private final Executor completer;
  private final Duration sendTimeout;
  private final Semaphore window;
  private final ReentrantLock lock = new ReentrantLock();

  /** Publishes waiting for their confirm, by publish sequence number; they time out here. */
  private final PendingSends<Pending> pending;

  private final AtomicLong epoch = new AtomicLong();
  private volatile String blockedReason;
  private Channel channel;

  /** The channel of {@link #publishUnconfirmed}, not in confirm mode. Guarded by its lock. */
  private final ReentrantLock plainLock = new ReentrantLock();

  private Channel plain;

  /**
   * @param missingExchange told the name of an exchange RabbitMQ said does not exist (a publish to
   *     it closed the channel with 404 NOT_FOUND: deleted under a running service), so that the
   *     next send declares it again; called on the client's connection thread, must not block
   */
  Publisher(
      Connection connection,
      int confirmWindow,
      Duration sendTimeout,
      Executor completer,
      java.util.function.Consumer<String> missingExchange) {
    this.missingExchange = missingExchange;
    this.connection = connection;
    this.completer = completer;
    this.sendTimeout = sendTimeout;
    this.window = new Semaphore(confirmWindow);
    this.pending =
        new PendingSends<>(
            "no confirm from RabbitMQ", (p, timedOut) -> release(List.of(p), timedOut));
    connection.addBlockedListener(reason -> blockedReason = reason, () -> blockedReason = null);
  }

  /** Unconfirmed publishes right now. */
  int inFlight() {
    return pending.size();
  }

  CompletableFuture<Void> publish(
      String exchange,
      String routingKey,
      boolean mandatory,
      AMQP.BasicProperties props,
      byte[] body) {
    CompletableFuture<Void> blocked = blockedFailure();
    if (blocked != null) {
      return blocked;
    }
    try {
      if (!window.tryAcquire(sendTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        return CompletableFuture.failedFuture(
            new TransportException(
                dev.parley.transport.spi.Transport.SEND_TIMEOUT,
                "no confirm window free within " + sendTimeout,
                null));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(
          new TransportException("parley.transport.interrupted", "interrupted", e));
    }
    Pending p = new Pending(props.getMessageId(), mandatory, routingKey, sendTimeout);
    lock.lock();
    try {
      long e = epoch.get();
      Channel ch = channel();
      long seq = ch.getNextPublishSeqNo();
      pending.put(seq, p);
      try {
        ch.basicPublish(exchange, routingKey, mandatory, props, body);
      } catch (IOException | RuntimeException ex) {
        fail(seq, unavailable("publish failed: " + ex.getMessage(), ex));
      }
      if (epoch.get() != e) {
        fail(seq, unknownOutcome(null));
      }
    } catch (IOException | RuntimeException ex) {
      window.release();
      p.future()
          .completeExceptionally(unavailable("no channel to publish on: " + ex.getMessage(), ex));
    } finally {
      lock.unlock();
    }
    // A copy, so a caller cannot complete Parley's own future.
    return p.future().copy();
  }

  /** A failed send while RabbitMQ blocks publishers (a memory or disk alarm), else null. */
  private CompletableFuture<Void> blockedFailure() {
    String reason = blockedReason;
    return reason == null
        ? null
        : CompletableFuture.failedFuture(
            new TransportException(
                "parley.transport.broker_blocked",
                "RabbitMQ blocks publishing (" + reason + ")",
                null));
  }

  /**
   * Publishes without a confirm (a request, {@code SendOptions.confirmed() == false}), on a channel
   * of its own that is not in confirm mode: the future completes once the message is written to the
   * connection, and fails when it cannot be (no connection, RabbitMQ blocking publishers). Nothing
   * is mandatory: a request nobody can route to is answered by nobody, and its caller's timeout
   * says so.
   */
  CompletableFuture<Void> publishUnconfirmed(
      String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    CompletableFuture<Void> blocked = blockedFailure();
    if (blocked != null) {
      return blocked;
    }
    plainLock.lock();
    try {
      Channel ch = plain;
      if (ch == null || !ch.isOpen()) {
        ch = connection.createChannel();
        if (ch == null) {
          throw new IOException("no channel available on the connection");
        }
        plain = ch;
      }
      ch.basicPublish(exchange, routingKey, false, props, body);
      return CompletableFuture.completedFuture(null);
    } catch (IOException | RuntimeException ex) {
      return CompletableFuture.failedFuture(unavailable("publish failed: " + ex.getMessage(), ex));
    } finally {
      plainLock.unlock();
    }
  }

  private Channel channel() throws IOException {
    Channel ch = channel;
    if (ch == null) {
      ch = connection.createChannel();
      if (ch == null) {
        throw new IOException("no channel available on the connection");
      }
      ch.confirmSelect();
      ch.addConfirmListener(this);
      ch.addReturnListener(this);
      ch.addShutdownListener(this::onShutdown);
      channel = ch;
    }
    return ch;
  }

  private void onShutdown(ShutdownSignalException cause) {
    epoch.incrementAndGet();
    String reason = null;
    if (!cause.isHardError()) {
      // A channel error (not recovered by the connection): open a new channel on the next publish.
      channel = null;
      if (cause.getReason() instanceof AMQP.Channel.Close close) {
        reason = close.getReplyText();
        Matcher missing = MISSING_EXCHANGE.matcher(reason);
        if (close.getReplyCode() == 404 && missing.find()) {
          missingExchange.accept(missing.group(1));
        }
      }
    }
    for (Long seq : pending.sequences()) {
      fail(seq, unknownOutcome(reason));
    }
  }

  /** How RabbitMQ names the exchange a publish found missing ({@code 404 NOT_FOUND}). */
  private static final Pattern MISSING_EXCHANGE = Pattern.compile("no exchange '(.*)' in vhost");

  private final java.util.function.Consumer<String> missingExchange;

  @Override
  public void handleAck(long deliveryTag, boolean multiple) {
    settle(deliveryTag, multiple, null);
  }

  @Override
  public void handleNack(long deliveryTag, boolean multiple) {
    settle(
        deliveryTag,
        multiple,
        new TransportException("parley.transport.nacked", "RabbitMQ refused the message", null));
  }

  @Override
  public void handleReturn(
      int replyCode,
      String replyText,
      String exchange,
      String routingKey,
      AMQP.BasicProperties properties,
      byte[] body) {
    // The return of a message comes before its ack, on the same channel.
    String id = properties.getMessageId();
    for (Pending p : pending.sends()) {
      if (p.mandatory
          && p.returned == null
          && p.routingKey.equals(routingKey)
          && java.util.Objects.equals(p.messageId, id)) {
        p.returned = replyText + " (" + replyCode + ") for routing key '" + routingKey + "'";
        return;
      }
    }
  }

  private void settle(long tag, boolean multiple, TransportException failure) {
    List<Pending> settled;
    if (multiple) {
      settled = pending.removeUpTo(tag);
    } else {
      Pending p = pending.remove(tag);
      settled = p == null ? List.of() : List.of(p);
    }
    if (!settled.isEmpty()) {
      release(settled, failure);
    }
  }

  /** Removes a pending publish, frees its window slot and fails its future (off this thread). */
  private void fail(long seq, TransportException failure) {
    Pending p = pending.remove(seq);
    if (p != null) {
      release(List.of(p), failure);
    }
  }

  /**
   * Frees the window slots of publishes taken out of {@link #pending} and completes their futures
   * off this thread (null: confirmed).
   */
  private void release(List<Pending> settled, TransportException failure) {
    window.release(settled.size());
    completeOffThread(settled, failure);
  }

  private void completeOffThread(List<Pending> settled, TransportException failure) {
    Runnable task = () -> settled.forEach(p -> p.complete(failure));
    try {
      completer.execute(task);
    } catch (RejectedExecutionException e) {
      task.run(); // the transport is closed: nothing waits on the I/O thread any more
    }
  }

  /**
   * Waits up to {@code timeout} for the confirms of what was published so far (a closing transport:
   * what it sent gets RabbitMQ's answer before the connection goes); {@link #failAll} then fails
   * what is still unconfirmed.
   */
  void awaitConfirms(java.time.Duration timeout) {
    pending.awaitAnswered(timeout);
  }

  /** Fails every unconfirmed publish (the transport is closing). */
  void failAll() {
    for (Long seq : pending.sequences()) {
      fail(
          seq,
          new TransportException(
              dev.parley.transport.spi.Transport.CLOSED,
              "transport closed before the confirm",
              null));
    }
  }

  /**
   * @param channelError RabbitMQ's reason for closing the channel (a channel error: a publish to an
   *     exchange that does not exist), null when the connection closed
   */
  private static TransportException unknownOutcome(String channelError) {
    return new TransportException(
        "parley.transport.connection_lost",
        channelError == null
            ? "the connection to RabbitMQ closed before the confirm; the outcome is unknown"
            : "RabbitMQ closed the publishing channel before the confirm ("
                + channelError
                + "); the outcome is unknown",
        null);
  }

  private static TransportException unavailable(String message, Throwable cause) {
    return new TransportException("parley.transport.unavailable", message, cause);
  }

  private static final class Pending extends PendingSends.Send {
    final String messageId;
    final boolean mandatory;
    final String routingKey;
    volatile String returned;

    Pending(String messageId, boolean mandatory, String routingKey, Duration timeout) {
      super(timeout);
      this.messageId = messageId;
      this.mandatory = mandatory;
      this.routingKey = routingKey;
    }

    void complete(TransportException failure) {
      if (failure != null) {
        future().completeExceptionally(failure);
      } else if (returned != null) {
        future()
            .completeExceptionally(
                new TransportException(
                    "parley.transport.unroutable", "no queue took the message: " + returned, null));
      } else {
        future().complete(null);
      }
    }
  }
}
