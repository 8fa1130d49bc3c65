package dev.parley.testing.kit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP proxy on loopback, in the manner of Toxiproxy: put it between a client and
 * a server, then add {@link Toxic}s (latency, bandwidth, slicing, data limits, blackholes, stalls,
 * slow closes), {@link #resetAll() reset} every connection, or {@link #disable() refuse} new ones.
 * Counters ({@link #accepted()}, {@link #resets()}) let a test prove the fault happened.
 *
 * <pre>{@code
 * try (FaultProxy proxy = FaultProxy.to("127.0.0.1", broker.port())) {
 *   connect(proxy.port());
 *   proxy.add(Toxic.latency(Toxic.Direction.DOWNSTREAM, Duration.ofMillis(50)));
 *   proxy.resetAll();
 * }
 * }</pre>
 *
 * Toxics apply to bytes forwarded after they are added. Thread-safe; two threads per connection.
 */
public final class FaultProxy implements AutoCloseable {

  /** Where connections go: the first of these that accepts, from a turning start. */
  private final List<InetSocketAddress> targets;

  private final AtomicInteger nextTarget = new AtomicInteger();

  /** What {@code forward} returns when a reset_peer toxic fires. */
  private static final long RESET = -2;

  private final ServerSocket listener;
  private final List<Toxic> toxics = new CopyOnWriteArrayList<>();
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean enabled = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong resets = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong upstreamBytes = new AtomicLong();
  private final Thread acceptor;

  private FaultProxy(List<InetSocketAddress> targets) throws IOException {
    this.targets = List.copyOf(targets);
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::acceptLoop, "parley-fault-proxy-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy on an ephemeral loopback port forwarding to {@code host:port}. */
  public static FaultProxy to(String host, int port) {
    try {
      return new FaultProxy(List.of(new InetSocketAddress(host, port)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open proxy port", e);
    }
  }

  /**
   * A proxy forwarding each connection to the first of the loopback {@code ports} that accepts it,
   * each connection trying them from the next one on (the nodes of a cluster: a client behind it
   * reaches another node when one is down, as a client given the cluster's addresses would).
   */
  public static FaultProxy toAny(int... ports) {
    if (ports.length == 0) {
      throw new IllegalArgumentException("ports: none");
    }
    List<InetSocketAddress> targets = new java.util.ArrayList<>();
    for (int port : ports) {
      targets.add(new InetSocketAddress("127.0.0.1", port));
    }
    try {
      return new FaultProxy(targets);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open proxy port", e);
    }
  }

  /** The port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  public FaultProxy add(Toxic toxic) {
    toxics.add(Objects.requireNonNull(toxic, "toxic"));
    return this;
  }

  public FaultProxy remove(Toxic toxic) {
    toxics.remove(toxic);
    return this;
  }

  public FaultProxy clearToxics() {
    toxics.clear();
    return this;
  }

  /** Resets (TCP RST) every open connection. */
  public void resetAll() {
    for (Link link : links) {
      resets.incrementAndGet(); // before the RST, so a client that sees it sees the count
      link.reset();
    }
  }

  /**
   * Resets every connection and refuses new ones (as a dead server would) until {@link #enable()}.
   */
  public void disable() {
    enabled.set(false);
    resetAll();
  }

  public void enable() {
    enabled.set(true);
  }

  /** Connections accepted so far. */
  public long accepted() {
    return accepted.get();
  }

  /** Bytes read from clients so far (before any toxic), over every connection. */
  public long upstreamBytes() {
    return upstreamBytes.get();
  }

  /** Connections refused (reset at once) while {@link #disable() disabled} so far. */
  public long refused() {
    return refused.get();
  }

  /** Connections reset by {@link #resetAll()}, {@link #disable()} or a reset_peer toxic so far. */
  public long resets() {
    return resets.get();
  }

  /** Connections open right now. */
  public int openConnections() {
    return links.size();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing
    }
    for (Link link : links) {
      link.reset();
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed.get()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (!enabled.get()) {
        refused.incrementAndGet();
        abort(client);
        continue;
      }
      accepted.incrementAndGet();
      Socket server = connectToATarget();
      if (server == null) {
        abort(client);
        continue;
      }
      Link link = new Link(client, server);
      links.add(link);
      link.start();
    }
  }

  /** A connection to the first target that accepts one, or null when none does. */
  private Socket connectToATarget() {
    int first = Math.floorMod(nextTarget.getAndIncrement(), targets.size());
    for (int i = 0; i < targets.size(); i++) {
      Socket server = new Socket();
      try {
        server.connect(targets.get((first + i) % targets.size()), 5_000);
        return server;
      } catch (IOException e) {
        try {
          server.close();
        } catch (IOException ignored) {
          // nothing was open
        }
      }
    }
    return null;
  }

  private static void abort(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  /** One proxied connection: a pump per direction. */
  private final class Link {
    private final Socket client;
    private final Socket server;
    private final AtomicBoolean done = new AtomicBoolean();

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      pump(client, server, Toxic.Direction.UPSTREAM);
      pump(server, client, Toxic.Direction.DOWNSTREAM);
    }

    void reset() {
      if (done.compareAndSet(false, true)) {
        abort(client);
        abort(server);
        links.remove(this);
      }
    }

    void finish(Toxic.Direction direction) {
      for (Toxic t : toxics) {
        if (t instanceof Toxic.SlowClose s && s.direction().includes(direction)) {
          sleep(s.delay());
        }
      }
      if (done.compareAndSet(false, true)) {
        try {
          client.close();
          server.close();
        } catch (IOException ignored) {
          // closing
        }
        links.remove(this);
      }
    }

    private void pump(Socket from, Socket to, Toxic.Direction direction) {
      Thread t =
          new Thread(
              () -> {
                byte[] buffer = new byte[16 * 1024];
                long forwarded = 0;
                // The streams are not closed here (closing one closes its socket): finish()
                // closes both sockets, after a slow-close toxic's delay.
                try {
                  InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream();
                  int n;
                  while ((n = in.read(buffer)) >= 0) {
                    if (direction == Toxic.Direction.UPSTREAM) {
                      upstreamBytes.addAndGet(n);
                    }
                    forwarded = forward(buffer, n, out, direction, forwarded);
                    if (forwarded == RESET) {
                      // counted first: whoever sees the RST also sees the count
                      resets.incrementAndGet();
                      reset(); // reset_peer: TCP RST both ways
                      return;
                    }
                    if (forwarded < 0) {
                      break; // data limit reached
                    }
                  }
                } catch (IOException e) {
                  // reset or closed: the link ends
                }
                finish(direction);
              },
              "parley-fault-proxy-" + direction.name().toLowerCase(java.util.Locale.ROOT));
      t.setDaemon(true);
      t.start();
    }

    /** Forwards one chunk through the toxics; returns the new forwarded count, or -1 to close. */
    private long forward(
        byte[] buffer, int n, OutputStream out, Toxic.Direction direction, long forwarded)
        throws IOException {
      int length = n;
      int slice = length;
      Duration slicePause = Duration.ZERO;
      for (Toxic t : toxics) {
        if (!t.direction().includes(direction)) {
          continue;
        }
        if (t instanceof Toxic.Timeout) {
          return forwarded; // swallowed
        } else if (t instanceof Toxic.Stall) {
          while (toxics.contains(t) && !done.get() && !closed.get()) {
            sleep(Duration.ofMillis(10)); // not reading: the sender's buffers fill
          }
        } else if (t instanceof Toxic.ResetPeer r) {
          sleep(r.timeout());
          return RESET; // the chunk is dropped and the connection reset
        } else if (t instanceof Toxic.Latency l) {
          sleep(l.delay());
        } else if (t instanceof Toxic.Bandwidth b) {
          sleep(Duration.ofNanos(TimeUnit.SECONDS.toNanos(1) * length / b.bytesPerSecond()));
        } else if (t instanceof Toxic.Slicer s) {
          slice = Math.min(slice, s.sliceBytes());
          slicePause = s.pause();
        } else if (t instanceof Toxic.LimitData d && forwarded + length >= d.bytes()) {
          int allowed = (int) Math.max(0, d.bytes() - forwarded);
          out.write(buffer, 0, allowed);
          out.flush();
          return -1;
        }
      }
      for (int off = 0; off < length; off += slice) {
        out.write(buffer, off, Math.min(slice, length - off));
        out.flush();
        if (off + slice < length) {
          sleep(slicePause);
        }
      }
      return forwarded + length;
    }
  }

  private static void sleep(Duration d) {
    if (d.isZero() || d.isNegative()) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(d.toNanos());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
