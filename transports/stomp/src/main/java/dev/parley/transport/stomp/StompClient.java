package dev.parley.transport.stomp;

import dev.parley.error.TransportException;
import dev.parley.transport.spi.PendingSends;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One STOMP 1.2 connection: the CONNECT handshake, a reader thread, heart-beats both ways, frames
 * written under a lock, receipts matched to their futures. It does not reconnect: when it dies it
 * says so once through {@code onClosed}, and its owner makes a new one.
 *
 * <p>The link counts as lost when nothing came from the broker for two of its heart-beats and half
 * a second, and also when a write has made no progress for two of ours and half a second (a broker
 * that stopped reading: the socket's buffers are full). The transport's timer checks both and never
 * writes (a write may block); heart-beats go out from a thread of the connection's own.
 */
final class StompClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StompClient.class);

  /** What the client learnt from the broker's CONNECTED frame. */
  record Session(String server, String version, long sendHeartbeatMillis, long expectMillis) {}

  private final Socket socket;
  private final OutputStream out;
  private final StompFrameReader reader;
  private final Session session;

  /** The code of a frame the broker refused for want of a permission. */
  static final String ACCESS_REFUSED = "parley.stomp.access_refused";

  /** A queue the broker will not declare as asked: it exists with other arguments. */
  static final String TOPOLOGY = "parley.transport.topology";

  /** RabbitMQ's ERROR {@code message} for such a queue. */
  static final String PRECONDITION_FAILED = "precondition_failed";

  /**
   * Frames waiting for their RECEIPT, by receipt id; one overdue fails with {@code
   * parley.transport.send_timeout}.
   */
  private final PendingSends<Receipt> receipts =
      new PendingSends<>(
          "no receipt from the STOMP broker",
          (r, timedOut) -> r.future().completeExceptionally(timedOut));

  /**
   * A frame waiting for its RECEIPT, with its {@code destination} and {@code x-queue-name} headers
   * (either may be null): an ERROR without a {@code receipt-id} that quotes what they name is taken
   * for this frame's.
   */
  private static final class Receipt extends PendingSends.Send {
    private final String destination;
    private final String queueName;
    private final String subscription;

    Receipt(Duration timeout, String destination, String queueName, String subscription) {
      super(timeout);
      this.destination = destination;
      this.queueName = queueName;
      this.subscription = subscription;
    }

    /** A SUBSCRIBE's subscription id, else null. */
    String subscription() {
      return subscription;
    }

    String destination() {
      return destination;
    }

    String queueName() {
      return queueName;
    }
  }

  /**
   * What RabbitMQ's STOMP plugin says, keeping the connection, when it ends a subscription itself
   * (its queue deleted): the frame names the subscription in a {@code subscription} header.
   */
  static final String SUBSCRIPTION_CANCELLED = "Server cancelled subscription";

  private final AtomicLong nextReceipt = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Takes the frames the transport acts on, on the reader thread: every MESSAGE, and the ERROR
   * frames that say "Subscription not found" or {@link #SUBSCRIPTION_CANCELLED} (the connection
   * stays up after those).
   */
  private final Consumer<StompFrame> onFrame;

  private final Consumer<Throwable> onClosed;
  private final Thread readerThread;

  /** Writes the heart-beats; null when the broker wants none. */
  private final Thread beatThread;

  /** Checks, on the transport's timer, that the link is alive; never blocks. */
  private final ScheduledFuture<?> watch;

  /**
   * Whether a thread is writing now, under {@code out}'s monitor (a monitor, not a {@code
   * ReentrantLock}: senders and acknowledging handlers contend for it, and a monitor spins a little
   * before it parks a thread — the lock cost the STOMP events row about one context switch more per
   * event).
   */
  private volatile boolean writing;

  private volatile long lastWrite = System.nanoTime();

  /** When the write in progress last moved on (taken the lock, or written a slice). */
  private volatile long writeProgress = System.nanoTime();

  /** Bytes written at once, between two checks that the write moves on. */
  private static final int WRITE_SLICE = 64 * 1024;

  private StompClient(
      Socket socket,
      StompFrameReader reader,
      Session session,
      String name,
      ScheduledExecutorService timer,
      Consumer<StompFrame> onFrame,
      Consumer<Throwable> onClosed)
      throws IOException {
    this.socket = socket;
    this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    this.reader = reader;
    this.session = session;
    this.onFrame = onFrame;
    this.onClosed = onClosed;
    long tick =
        Math.max(
            50,
            Math.min(
                session.sendHeartbeatMillis() > 0 ? session.sendHeartbeatMillis() / 2 : 1000,
                session.expectMillis() > 0 ? session.expectMillis() / 2 : 1000));
    this.watch = timer.scheduleWithFixedDelay(this::watch, tick, tick, TimeUnit.MILLISECONDS);
    this.readerThread = new Thread(this::readLoop, name + "-reader");
    readerThread.setDaemon(true);
    readerThread.start();
    if (session.sendHeartbeatMillis() > 0) {
      this.beatThread = new Thread(() -> beatLoop(tick), name + "-beats");
      beatThread.setDaemon(true);
      beatThread.start();
    } else {
      this.beatThread = null;
    }
  }

  /**
   * Connects and completes the handshake within {@code timeout}.
   *
   * @param heartbeat what the client offers both ways ({@code heart-beat:<ms>,<ms>})
   * @param copier where MESSAGEs over {@code maxFrameBytes} are copied, or null to skip them
   */
  static StompClient connect(
      String host,
      int port,
      javax.net.ssl.SSLSocketFactory tls,
      String virtualHost,
      String login,
      String passcode,
      Duration heartbeat,
      Duration timeout,
      int maxFrameBytes,
      StompFrameReader.BodyCopier copier,
      String name,
      ScheduledExecutorService timer,
      Consumer<StompFrame> onFrame,
      Consumer<Throwable> onClosed)
      throws IOException {
    Socket plain = new Socket();
    Socket socket = plain;
    // The JDK's socket turns non-blocking for good once a timeout is used on it (a connect timeout,
    // SO_TIMEOUT), and then every read that finds nothing waiting costs a failed read and a poll(2)
    // before the real one: two more system calls per frame on the reader thread. So neither is
    // used; closing the socket from the timer bounds the connect and the handshake instead, and the
    // reader thread sleeps in one read(2).
    AtomicBoolean expired = new AtomicBoolean();
    ScheduledFuture<?> guard =
        timer.schedule(
            () -> {
              expired.set(true);
              closeQuietly(plain);
            },
            timeout.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      plain.setTcpNoDelay(true);
      plain.connect(new InetSocketAddress(host, port));
      if (tls != null) {
        // TLS over the connected socket: the certificate is checked against the trust managers
        // and the host name (as HTTPS does); a failed handshake fails the connection
        javax.net.ssl.SSLSocket secure =
            (javax.net.ssl.SSLSocket) tls.createSocket(plain, host, port, true);
        javax.net.ssl.SSLParameters parameters = secure.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        secure.setSSLParameters(parameters);
        socket = secure;
        secure.startHandshake();
      }
      Map<String, String> h = new LinkedHashMap<>();
      h.put("accept-version", "1.2");
      h.put("host", virtualHost);
      if (login != null) {
        h.put("login", login);
        h.put("passcode", passcode == null ? "" : passcode);
      }
      long beat = heartbeat.toMillis();
      h.put("heart-beat", beat + "," + beat);
      socket.getOutputStream().write(StompFrame.of("CONNECT", h).encode());
      socket.getOutputStream().flush();
      StompFrameReader reader = new StompFrameReader(socket.getInputStream(), maxFrameBytes);
      reader.copyLargeMessagesTo(copier);
      StompFrame answer = reader.read();
      if (answer.command().equals("ERROR")) {
        throw new ConnectRefused(
            "the broker refused the STOMP connection: "
                + answer.header("message")
                + " "
                + new String(answer.body(), java.nio.charset.StandardCharsets.UTF_8).trim());
      }
      if (!answer.command().equals("CONNECTED")) {
        throw new StompProtocolException("expected CONNECTED, got " + answer.command());
      }
      String version = answer.headers().getOrDefault("version", "1.0");
      if (!version.equals("1.2")) {
        throw new StompProtocolException("the broker speaks STOMP " + version + ", not 1.2");
      }
      long[] beats = parseHeartbeat(answer.header("heart-beat"));
      // We send every max(ours, what the server wants); we expect every max(ours, what it sends).
      long send = beats[1] == 0 || beat == 0 ? 0 : Math.max(beat, beats[1]);
      long expect = beats[0] == 0 || beat == 0 ? 0 : Math.max(beat, beats[0]);
      guard.cancel(false);
      if (expired.get()) {
        throw new SocketTimeoutException(timedOut(host, port, timeout));
      }
      Session session =
          new Session(answer.headers().getOrDefault("server", ""), version, send, expect);
      return new StompClient(socket, reader, session, name, timer, onFrame, onClosed);
    } catch (IOException | RuntimeException e) {
      guard.cancel(false);
      socket.close();
      if (expired.get() && !(e instanceof SocketTimeoutException)) {
        throw new SocketTimeoutException(timedOut(host, port, timeout));
      }
      throw e;
    }
  }

  private static String timedOut(String host, int port, Duration timeout) {
    return "no STOMP connection to " + host + ":" + port + " within " + timeout;
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing to end a connect or handshake that took too long: nothing to add
    }
  }

  private static long[] parseHeartbeat(String header) {
    if (header == null) {
      return new long[] {0, 0};
    }
    String[] parts = header.split(",");
    try {
      return new long[] {Long.parseLong(parts[0].trim()), Long.parseLong(parts[1].trim())};
    } catch (RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  Session session() {
    return session;
  }

  boolean isOpen() {
    return !closed.get();
  }

  /** Writes a frame. */
  void write(StompFrame frame) {
    if (log.isTraceEnabled()) {
      log.trace("> {}", frame);
    }
    writeEncoded(frame.encode());
  }

  /** Writes a frame from its parts, without building a {@link StompFrame}. */
  void write(String command, Map<String, String> headers, byte[] body) {
    if (log.isTraceEnabled()) {
      log.trace("> {}{} ({} bytes)", command, headers, body.length);
    }
    writeEncoded(StompFrame.encode(command, headers, null, body));
  }

  /**
   * Writes encoded frames in order, with one flush: frames that go together (a reply and the ACK of
   * its request) reach the broker in one segment, for one system call and one turn of the lock.
   */
  void writeEncoded(byte[]... frames) {
    synchronized (out) {
      if (closed.get()) {
        throw new TransportException(
            "parley.transport.connection_lost", "the STOMP connection is closed", null);
      }
      writeProgress = System.nanoTime();
      writing = true;
      try {
        for (byte[] frame : frames) {
          if (frame.length <= WRITE_SLICE) {
            out.write(frame);
            continue;
          }
          for (int off = 0; off < frame.length; off += WRITE_SLICE) {
            out.write(frame, off, Math.min(WRITE_SLICE, frame.length - off));
            writeProgress = System.nanoTime();
          }
        }
        out.flush();
        lastWrite = System.nanoTime();
      } catch (IOException e) {
        fail(e);
        throw new TransportException(
            "parley.transport.connection_lost", "writing to the broker failed: " + e, e);
      } finally {
        writing = false;
      }
    }
  }

  /**
   * Writes a frame with a {@code receipt} header; the future completes when the broker's RECEIPT
   * arrives, or fails when it answers ERROR or the connection dies first.
   */
  CompletableFuture<Void> writeWithReceipt(StompFrame frame, Duration timeout) {
    return writeWithReceipt(frame.command(), frame.headers(), frame.body(), timeout);
  }

  /** {@link #writeWithReceipt(StompFrame, Duration)} from the frame's parts. */
  CompletableFuture<Void> writeWithReceipt(
      String command, Map<String, String> headers, byte[] body, Duration timeout) {
    long id = nextReceipt.incrementAndGet();
    String receiptId = Long.toString(id);
    if (log.isTraceEnabled()) {
      log.trace("> {}{} receipt {} ({} bytes)", command, headers, receiptId, body.length);
    }
    Receipt pending =
        new Receipt(
            timeout,
            headers.get("destination"),
            headers.get("x-queue-name"),
            command.equals("SUBSCRIBE") ? headers.get("id") : null);
    receipts.put(id, pending);
    try {
      writeEncoded(StompFrame.encode(command, headers, receiptId, body));
    } catch (TransportException e) {
      fail(id, e);
    }
    if (closed.get()) {
      fail(id, lost(null));
    }
    return pending.future();
  }

  /**
   * Sends a frame whose body {@code body} writes as it reads it from elsewhere ({@code length}
   * bytes, no more held in memory than a read at a time), with a {@code receipt}: the future
   * completes on the broker's RECEIPT. The write holds the connection for as long as the body takes
   * to come, so this is for a connection of its own. A body that fails to come whole leaves a
   * broken frame: the connection is then dropped and the future failed.
   */
  CompletableFuture<Void> sendStreaming(
      Map<String, String> headers, long length, StompFrameReader.Body body, Duration timeout) {
    long id = nextReceipt.incrementAndGet();
    Receipt pending = new Receipt(timeout, headers.get("destination"), null, null);
    receipts.put(id, pending);
    byte[] head = StompFrame.encodeHead("SEND", headers, Long.toString(id), length);
    if (log.isTraceEnabled()) {
      log.trace("> SEND{} receipt {} ({} bytes, streamed)", headers, id, length);
    }
    synchronized (out) {
      if (closed.get()) {
        fail(id, lost(null));
        return pending.future();
      }
      writeProgress = System.nanoTime();
      writing = true;
      try {
        out.write(head);
        body.writeTo(
            new OutputStream() {
              @Override
              public void write(int b) throws IOException {
                out.write(b);
                writeProgress = System.nanoTime();
              }

              @Override
              public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                writeProgress = System.nanoTime();
              }
            });
        out.write(0);
        out.flush();
        lastWrite = System.nanoTime();
      } catch (IOException | RuntimeException e) {
        fail(e); // the frame is broken: the connection with it
        fail(id, lost(e));
      } finally {
        writing = false;
      }
    }
    return pending.future();
  }

  private void fail(long id, Throwable failure) {
    Receipt r = receipts.remove(id);
    if (r != null) {
      r.future().completeExceptionally(failure);
    }
  }

  /**
   * The failure an ERROR frame stands for: {@code parley.stomp.access_refused} when the broker
   * refused for want of a permission (RabbitMQ: {@code message:access_refused}; Artemis: "does not
   * have permission"), {@code parley.transport.topology} when RabbitMQ refused to declare a queue
   * that exists with other arguments ({@code message:precondition_failed}: a quorum queue where the
   * plugin declares a classic one; the RabbitMQ transport's code for the same refusal), {@code
   * parley.transport.broker_error} otherwise.
   */
  static TransportException brokerError(String message, String body) {
    boolean refused =
        message.equals("access_refused")
            || message.contains("does not have permission")
            || body.contains("does not have permission");
    String code =
        refused
            ? ACCESS_REFUSED
            : message.equals(PRECONDITION_FAILED) ? TOPOLOGY : "parley.transport.broker_error";
    return new TransportException(
        code,
        "the broker answered ERROR: " + message + (body.isEmpty() ? "" : " (" + body + ")"),
        null);
  }

  /**
   * An ERROR without a {@code receipt-id} (RabbitMQ's plugin answers a refused SUBSCRIBE or SEND
   * so, and may still send the SUBSCRIBE's RECEIPT after it): fails the frames waiting for a
   * receipt whose queue or destination the error quotes ({@code 'name'}), or — Artemis answers a
   * refused SUBSCRIBE with "Error creating subscription s2.1" and nothing more — whose subscription
   * id it quotes. Others wait on: the broker closes the connection, which fails them as lost.
   */
  private void failNamedIn(String text, TransportException e) {
    for (Map.Entry<Long, Receipt> r : receipts.entries()) {
      for (String name : names(r.getValue())) {
        if (text.contains("'" + name + "'")
            || text.contains(" " + name + " ")
            || text.endsWith(" " + name)) {
          fail(r.getKey(), e);
          break;
        }
      }
    }
  }

  /**
   * What a frame names: its destination's queue, exchange or address without the broker's prefix
   * ({@code /queue/}, {@code /amq/queue/}, {@code /topic/}, {@code /exchange/}), the destination
   * itself, and the queue a {@code x-queue-name} header declares.
   */
  private static List<String> names(Receipt r) {
    List<String> names = new ArrayList<>(3);
    String destination = r.destination();
    if (destination != null) {
      names.add(destination);
      int slash = destination.lastIndexOf('/');
      if (slash >= 0 && slash < destination.length() - 1) {
        names.add(destination.substring(slash + 1));
      }
    }
    if (r.queueName() != null) {
      names.add(r.queueName());
    }
    if (r.subscription() != null) {
      names.add(r.subscription());
    }
    return names;
  }

  /**
   * The broker's error text without a dump of the message it refused: Artemis quotes a refused SEND
   * whole ({@code CoreMessage[... properties=TypedProperties[...]]}), every header with its value —
   * a bearer token among them — which would go to the log and into the exception.
   */
  static String withoutMessageDump(String text) {
    int dump = text.indexOf("CoreMessage[");
    return dump < 0 ? text : text.substring(0, dump).trim() + " (the message's details withheld)";
  }

  private static long receiptId(String header) {
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void readLoop() {
    Throwable cause = null;
    try {
      while (!closed.get()) {
        StompFrame frame = reader.read();
        if (log.isTraceEnabled()) {
          log.trace("< {}", frame);
        }
        switch (frame.command()) {
          case "MESSAGE" -> onFrame.accept(frame);
          case "RECEIPT" -> {
            Receipt r = receipts.remove(receiptId(frame.header("receipt-id")));
            if (r != null) {
              r.future().complete(null);
            }
          }
          case "ERROR" -> {
            String message = withoutMessageDump(frame.headers().getOrDefault("message", "ERROR"));
            String text =
                withoutMessageDump(
                    new String(frame.body(), java.nio.charset.StandardCharsets.UTF_8).trim());
            // RabbitMQ's plugin says this, and keeps the connection, when a message reaches a
            // subscription that has just ended (the message then stays unacknowledged on the
            // connection) or an ACK/NACK names one: the transport decides what it means, not
            // worth a warning here.
            boolean benign = message.equals("Subscription not found");
            // a cancelled subscription the transport reports itself, naming the subscription
            boolean handedOver = benign || message.equals(SUBSCRIPTION_CANCELLED);
            (handedOver ? log.atDebug() : log.atWarn())
                .log("STOMP broker error: {} {}", message, text);
            if (handedOver
                || message.equals(PRECONDITION_FAILED)
                || message.equals("access_refused")) {
              onFrame.accept(frame); // the transport remembers the queue it names (sends there)
            }
            TransportException e = brokerError(message, text);
            String receiptId = frame.header("receipt-id");
            if (receiptId != null) {
              fail(receiptId(receiptId), e);
            } else {
              failNamedIn(message + " " + text, e);
            }
            // STOMP brokers close the connection after an ERROR frame.
          }
          default -> log.debug("ignoring STOMP frame {}", frame.command());
        }
      }
    } catch (EOFException e) {
      cause = e;
    } catch (IOException | RuntimeException e) {
      cause = e;
      if (!closed.get()) {
        log.debug("STOMP connection failed: {}", e.toString());
      }
    }
    fail(cause);
  }

  /**
   * Declares the link lost when the broker has been silent, or a write has not moved on, for two
   * heart-beats and half a second. Runs on the transport's timer and never blocks: a write caught
   * by full socket buffers holds the write monitor, and waiting for it here would leave nothing to
   * notice (until TCP gave up, many minutes later).
   */
  private void watch() {
    if (closed.get()) {
      return;
    }
    long now = System.nanoTime();
    if (session.expectMillis() > 0
        && now - reader.lastActivityNanos()
            > TimeUnit.MILLISECONDS.toNanos(session.expectMillis() * 2 + 500)) {
      fail(
          new IOException(
              "no heart-beat from the broker for " + session.expectMillis() * 2 + " ms"));
      return;
    }
    if (session.sendHeartbeatMillis() > 0
        && writing
        && now - writeProgress
            > TimeUnit.MILLISECONDS.toNanos(session.sendHeartbeatMillis() * 2 + 500)) {
      fail(
          new IOException(
              "the broker has read nothing for "
                  + (session.sendHeartbeatMillis() * 2 + 500)
                  + " ms (a write is blocked)"));
    }
  }

  /** Sends a heart-beat whenever nothing else was written for half the agreed interval. */
  private void beatLoop(long tickMillis) {
    long half = TimeUnit.MILLISECONDS.toNanos(session.sendHeartbeatMillis() / 2);
    while (!closed.get()) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(tickMillis));
      if (closed.get() || System.nanoTime() - lastWrite <= half) {
        continue;
      }
      synchronized (out) {
        if (closed.get()) {
          continue;
        }
        writeProgress = System.nanoTime();
        writing = true;
        try {
          out.write('\n');
          out.flush();
          lastWrite = System.nanoTime();
        } catch (IOException e) {
          fail(e);
        } finally {
          writing = false;
        }
      }
    }
  }

  /**
   * Drops the connection as if it were lost: the broker takes back every message it had delivered
   * on it, and the transport reconnects and restores its subscriptions.
   */
  void abort(String why) {
    fail(new IOException(why));
  }

  private void fail(Throwable cause) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    watch.cancel(false);
    wake(beatThread);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    TransportException lost = lost(cause);
    for (Long id : receipts.sequences()) {
      fail(id, lost);
    }
    onClosed.accept(cause == null ? lost : cause);
  }

  private static TransportException lost(Throwable cause) {
    return new TransportException(
        "parley.transport.connection_lost",
        "the STOMP connection was lost before the broker's receipt",
        cause);
  }

  /**
   * Ends the connection as a loss (the transport reconnects), but only after the broker answered a
   * DISCONNECT's receipt, waiting up to {@code timeout}: it has then applied every frame sent
   * before, acknowledgements included. (RabbitMQ dropped ACKs still unread when the socket simply
   * closed, and delivered those messages again.)
   */
  void dropAfterReceipt(String why, Duration timeout) {
    if (!closed.get()) {
      awaitDisconnectReceipt(timeout);
      fail(new IOException(why));
    }
  }

  /**
   * Waits up to {@code timeout} for the broker's receipt of every frame sent with one so far, then
   * fails those still without one with {@code leftover}: a closing transport's sends get the
   * broker's answer first (brokers answer a DISCONNECT at once, before the receipts of SENDs that
   * wait for a queue's confirm, and close the connection with it).
   */
  void finishPending(Duration timeout, TransportException leftover) {
    receipts.awaitAnswered(timeout);
    for (Long id : receipts.sequences()) {
      fail(id, leftover);
    }
  }

  /** Sends DISCONNECT (waiting up to {@code timeout} for its receipt) and closes the socket. */
  void disconnect(Duration timeout) {
    if (!closed.get()) {
      awaitDisconnectReceipt(timeout);
      close();
    }
  }

  private void awaitDisconnectReceipt(Duration timeout) {
    try {
      writeWithReceipt(StompFrame.of("DISCONNECT", Map.of()), timeout)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("STOMP DISCONNECT got no receipt: {}", e.toString());
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    watch.cancel(false);
    wake(beatThread);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    TransportException lost = lost(null);
    for (Long id : receipts.sequences()) {
      fail(id, lost);
    }
    try {
      readerThread.join(2000);
      if (beatThread != null && beatThread != Thread.currentThread()) {
        beatThread.join(2000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void wake(Thread t) {
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  /**
   * The broker answered CONNECT with ERROR: a refused login or virtual host, which trying again
   * only repeats.
   */
  static final class ConnectRefused extends IOException {
    private static final long serialVersionUID = 1L;

    ConnectRefused(String message) {
      super(message);
    }
  }
}
