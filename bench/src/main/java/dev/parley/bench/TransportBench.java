package dev.parley.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.transport.rabbitmq.RabbitTransport;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.DeliveryHandler;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Transport;
import dev.parley.transport.spi.TransportSubscription;
import dev.parley.transport.stomp.StompTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Parley's RabbitMQ and STOMP transports against raw clients doing the same work on the machine's
 * RabbitMQ (localhost:5672 and the STOMP plugin on 61613): a closed loop of persistent messages
 * through one durable queue, a bounded window of unconfirmed sends, one consumer with manual acks,
 * producer and consumer running at once. Pairs run interleaved (raw, Parley, raw, Parley …);
 * reported: throughput and client CPU per message, with the median ratio and its range.
 *
 * <pre>
 * ./mvnw -q -pl bench exec:exec -Dbench.args="transports [messages] [repetitions]"
 * </pre>
 */
public final class TransportBench {

  static final int WINDOW = 256;
  static final int PREFETCH = 256;
  static final byte[] PAYLOAD = new byte[256];

  record Result(double msgPerSec, double cpuMicrosPerMsg) {}

  interface Side {
    Result run(int messages) throws Exception;
  }

  private TransportBench() {}

  public static void main(String[] args) throws Exception {
    int messages = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    java.util.Arrays.fill(PAYLOAD, (byte) 'x');
    System.out.printf(
        Locale.ROOT,
        "messages=%d window=%d prefetch=%d payload=%dB reps=%d%n",
        messages,
        WINDOW,
        PREFETCH,
        PAYLOAD.length,
        reps);
    String which = args.length > 3 ? args[3] : "all";
    Side raw = n -> rabbit(n, false, false);
    if (which.equals("all") || which.equals("rabbitmq")) {
      compare("RabbitMQ (quorum queue)", raw, n -> rabbit(n, true, true), messages, reps);
    }
    if (which.equals("all") || which.equals("split")) {
      compare(
          "RabbitMQ: Parley send, raw consume", raw, n -> rabbit(n, true, false), messages, reps);
      compare(
          "RabbitMQ: raw send, Parley consume", raw, n -> rabbit(n, false, true), messages, reps);
    }
    if (!which.equals("all") && !which.equals("stomp")) {
      return;
    }
    compare(
        "RabbitMQ STOMP", TransportBench::rawStomp, TransportBench::parleyStomp, messages, reps);
  }

  static void compare(String name, Side raw, Side parley, int messages, int reps) throws Exception {
    for (int i = 0; i < 2; i++) { // warm-up: let the JIT settle on both sides
      raw.run(messages / 2);
      parley.run(messages / 2);
    }
    List<Result> raws = new ArrayList<>();
    List<Result> ours = new ArrayList<>();
    for (int i = 0; i < reps; i++) {
      raws.add(raw.run(messages));
      ours.add(parley.run(messages));
    }
    List<Double> tput = new ArrayList<>();
    List<Double> cpu = new ArrayList<>();
    for (int i = 0; i < reps; i++) {
      tput.add(ours.get(i).msgPerSec() / raws.get(i).msgPerSec());
      cpu.add(ours.get(i).cpuMicrosPerMsg() / raws.get(i).cpuMicrosPerMsg());
    }
    System.out.printf(
        Locale.ROOT,
        "| %s | %.0f | %.0f | %.2f (%.2f–%.2f) | %.1f | %.1f | %.2f (%.2f–%.2f) |%n",
        name,
        median(raws.stream().map(Result::msgPerSec).toList()),
        median(ours.stream().map(Result::msgPerSec).toList()),
        median(tput),
        Collections.min(tput),
        Collections.max(tput),
        median(raws.stream().map(Result::cpuMicrosPerMsg).toList()),
        median(ours.stream().map(Result::cpuMicrosPerMsg).toList()),
        median(cpu),
        Collections.min(cpu),
        Collections.max(cpu));
    for (int i = 0; i < reps; i++) {
      System.out.printf(
          Locale.ROOT,
          "  rep %d: raw %.0f msg/s %.1f µs CPU/msg; parley %.0f msg/s %.1f µs CPU/msg%n",
          i + 1,
          raws.get(i).msgPerSec(),
          raws.get(i).cpuMicrosPerMsg(),
          ours.get(i).msgPerSec(),
          ours.get(i).cpuMicrosPerMsg());
    }
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static Result measure(int messages, long startNanos, long startCpu) {
    long elapsed = System.nanoTime() - startNanos;
    long cpu = cpuNanos() - startCpu;
    return new Result(messages * 1e9 / elapsed, cpu / 1000.0 / messages);
  }

  // ---- RabbitMQ, AMQP 0-9-1 -------------------------------------------------------------------

  static Map<String, Object> quorum() {
    Map<String, Object> args = new HashMap<>();
    args.put("x-queue-type", "quorum");
    return args;
  }

  /**
   * One run through a quorum queue declared by Parley (so both sides use the very same queue and
   * arguments): sends through Parley or through amqp-client as its documentation recommends (async
   * confirms, a window), consumption through Parley or through amqp-client (manual acks, one {@code
   * basic.ack multiple} per 32 deliveries).
   */
  static Result rabbit(int messages, boolean parleySend, boolean parleyConsume) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri("amqp://guest:guest@127.0.0.1:5672/%2F");
    String queue = "bench." + UUID.randomUUID();
    Destination.Queue q = new Destination.Queue(queue);
    try (RabbitTransport t =
            RabbitTransport.builder(URI.create("amqp://guest:guest@127.0.0.1:5672/"))
                .confirmWindow(WINDOW)
                .build();
        Connection pub = f.newConnection("bench-raw-pub");
        Connection sub = f.newConnection("bench-raw-sub")) {
      t.send(q, message(), SendOptions.NONE).get(30, TimeUnit.SECONDS); // declares the queue
      int expected = messages + 1;
      CountDownLatch done = new CountDownLatch(1);
      AtomicInteger received = new AtomicInteger();
      CompletableFuture<Void> ok = CompletableFuture.completedFuture(null);
      TransportSubscription parleyConsumer = null;
      long start = System.nanoTime();
      long cpu = cpuNanos();
      if (parleyConsume) {
        parleyConsumer =
            t.subscribe(
                q,
                new ConsumerSettings(1, PREFETCH, false),
                DeliveryHandler.settling(
                    d -> {
                      if (received.incrementAndGet() == expected) {
                        done.countDown();
                      }
                      return ok;
                    }));
      } else {
        Channel consumer = sub.createChannel();
        consumer.basicQos(PREFETCH);
        consumer.basicConsume(
            queue,
            false,
            new DefaultConsumer(consumer) {
              @Override
              public void handleDelivery(
                  String tag, Envelope env, AMQP.BasicProperties props, byte[] body)
                  throws IOException {
                int n = received.incrementAndGet();
                if (n % 32 == 0 || n == expected) {
                  getChannel().basicAck(env.getDeliveryTag(), true);
                }
                if (n == expected) {
                  done.countDown();
                }
              }
            });
      }
      Semaphore window = new Semaphore(WINDOW);
      if (parleySend) {
        for (int i = 0; i < messages; i++) {
          window.acquire();
          t.send(q, message(), SendOptions.NONE)
              .whenComplete(
                  (v, e) -> {
                    if (e != null) {
                      throw new IllegalStateException(e);
                    }
                    window.release();
                  });
        }
      } else {
        Channel ch = pub.createChannel();
        ch.confirmSelect();
        ConcurrentHashMap<Long, Boolean> outstanding = new ConcurrentHashMap<>();
        ch.addConfirmListener(
            (tag, multiple) -> release(outstanding, window, tag, multiple),
            (tag, multiple) -> {
              throw new IllegalStateException("nack " + tag);
            });
        AMQP.BasicProperties props =
            new AMQP.BasicProperties.Builder()
                .deliveryMode(2)
                .contentType("application/octet-stream")
                .build();
        for (int i = 0; i < messages; i++) {
          window.acquire();
          outstanding.put(ch.getNextPublishSeqNo(), Boolean.TRUE);
          ch.basicPublish("", queue, props, PAYLOAD);
        }
      }
      if (!done.await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("only " + received.get() + " received");
      }
      Result r = measure(messages, start, cpu);
      if (parleyConsumer != null) {
        parleyConsumer.close();
      }
      Channel cleanup = pub.createChannel();
      cleanup.queueDelete(queue);
      cleanup.queueDelete(queue + ".dlq");
      return r;
    }
  }

  private static void release(
      ConcurrentHashMap<Long, Boolean> outstanding, Semaphore window, long tag, boolean multiple) {
    if (multiple) {
      var head = new java.util.ArrayList<Long>();
      for (Long k : outstanding.keySet()) {
        if (k <= tag) {
          head.add(k);
        }
      }
      for (Long k : head) {
        if (outstanding.remove(k) != null) {
          window.release();
        }
      }
    } else if (outstanding.remove(tag) != null) {
      window.release();
    }
  }

  /** The same loop through any Parley transport, as Parley's messaging layer uses it. */
  static Result parley(Transport t, String queue, int messages, boolean deleteWithRabbit)
      throws Exception {
    Destination.Queue q = new Destination.Queue(queue);
    CountDownLatch done = new CountDownLatch(1);
    AtomicInteger received = new AtomicInteger();
    CompletableFuture<Void> ok = CompletableFuture.completedFuture(null);
    // Declare first (as the raw side does), outside the measured time.
    t.send(q, message(), SendOptions.NONE).get(30, TimeUnit.SECONDS);
    TransportSubscription sub =
        t.subscribe(
            q,
            new ConsumerSettings(1, PREFETCH, false),
            DeliveryHandler.settling(
                d -> {
                  if (received.incrementAndGet() == messages + 1) {
                    done.countDown();
                  }
                  return ok;
                }));
    Semaphore window = new Semaphore(WINDOW);
    long start = System.nanoTime();
    long cpu = cpuNanos();
    for (int i = 0; i < messages; i++) {
      window.acquire();
      t.send(q, message(), SendOptions.NONE)
          .whenComplete(
              (v, e) -> {
                if (e != null) {
                  throw new IllegalStateException(e);
                }
                window.release();
              });
    }
    if (!done.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("Parley: only " + received.get() + " received");
    }
    Result r = measure(messages, start, cpu);
    sub.close();
    if (deleteWithRabbit) {
      deleteQueue(queue);
    }
    return r;
  }

  static Message message() {
    return Message.builder()
        .header(Headers.CONTENT_TYPE, "application/octet-stream")
        .payload(PAYLOAD)
        .build();
  }

  static void deleteQueue(String queue) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setUri("amqp://guest:guest@127.0.0.1:5672/%2F");
    try (Connection c = f.newConnection("bench-cleanup")) {
      Channel ch = c.createChannel();
      ch.queueDelete(queue);
      ch.queueDelete(queue + ".dlq");
    }
  }

  // ---- STOMP ------------------------------------------------------------------------------------

  static Result parleyStomp(int messages) throws Exception {
    try (StompTransport t =
        StompTransport.builder(URI.create("stomp://guest:guest@127.0.0.1:61613/")).build()) {
      return parley(t, "bench.parley." + UUID.randomUUID(), messages, true);
    }
  }

  /**
   * A minimal STOMP 1.2 client written straight on a socket: pipelined SENDs with receipts, one
   * subscription with client-individual ACKs, no heart-beats, no escaping beyond what it needs.
   */
  static Result rawStomp(int messages) throws Exception {
    String queue = "bench.raw." + UUID.randomUUID();
    try (Socket pub = stompConnect();
        Socket sub = stompConnect()) {
      OutputStream pubOut = new java.io.BufferedOutputStream(pub.getOutputStream(), 65536);
      OutputStream subOut = new java.io.BufferedOutputStream(sub.getOutputStream(), 65536);
      // declare the queue first (outside the measured time)
      writeFrame(
          pubOut,
          "SEND",
          Map.of("destination", "/queue/" + queue, "receipt", "0", "persistent", "true"),
          PAYLOAD);
      readFrame(pub.getInputStream());
      Semaphore window = new Semaphore(WINDOW);
      CountDownLatch done = new CountDownLatch(1);
      AtomicInteger received = new AtomicInteger();
      Thread receipts =
          new Thread(
              () -> {
                try {
                  InputStream in = new java.io.BufferedInputStream(pub.getInputStream(), 65536);
                  for (int i = 0; i < messages; i++) {
                    readFrame(in);
                    window.release();
                  }
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      Thread consumer =
          new Thread(
              () -> {
                try {
                  InputStream in = new java.io.BufferedInputStream(sub.getInputStream(), 65536);
                  while (true) {
                    Map<String, String> h = readFrame(in);
                    if (h.containsKey("ack")) {
                      synchronized (subOut) {
                        writeFrame(subOut, "ACK", Map.of("id", h.get("ack")), new byte[0]);
                      }
                      if (received.incrementAndGet() == messages + 1) {
                        done.countDown();
                        return;
                      }
                    }
                  }
                } catch (IOException e) {
                  if (done.getCount() > 0) {
                    throw new IllegalStateException(e);
                  }
                }
              });
      receipts.start();
      long start = System.nanoTime();
      long cpu = cpuNanos();
      consumer.start();
      writeFrame(
          subOut,
          "SUBSCRIBE",
          dev.parley.bench.lab.RawStomp.clientAcked("/queue/" + queue, PREFETCH),
          new byte[0]);
      for (int i = 1; i <= messages; i++) {
        window.acquire();
        Map<String, String> h = new LinkedHashMap<>();
        h.put("destination", "/queue/" + queue);
        h.put("receipt", Integer.toString(i));
        h.put("persistent", "true");
        h.put("content-type", "application/octet-stream");
        writeFrame(pubOut, "SEND", h, PAYLOAD);
      }
      if (!done.await(120, TimeUnit.SECONDS)) {
        throw new IllegalStateException("raw STOMP: only " + received.get() + " received");
      }
      Result r = measure(messages, start, cpu);
      receipts.join(10_000);
      deleteQueue(queue);
      return r;
    }
  }

  static Socket stompConnect() throws IOException {
    Socket s = new Socket("127.0.0.1", 61613);
    s.setTcpNoDelay(true);
    writeFrame(
        s.getOutputStream(),
        "CONNECT",
        Map.of("accept-version", "1.2", "host", "/", "login", "guest", "passcode", "guest"),
        new byte[0]);
    readFrame(s.getInputStream());
    return s;
  }

  static void writeFrame(OutputStream out, String command, Map<String, String> headers, byte[] body)
      throws IOException {
    dev.parley.bench.lab.RawStomp.writeFrame(out, command, headers, body);
  }

  /** Reads one frame's headers; an ERROR frame fails. */
  static Map<String, String> readFrame(InputStream in) throws IOException {
    dev.parley.bench.lab.RawStomp.Frame f = dev.parley.bench.lab.RawStomp.readFrame(in);
    if (f.command().equals("ERROR")) {
      throw new IOException("STOMP ERROR: " + f.headers());
    }
    return f.headers();
  }
}
