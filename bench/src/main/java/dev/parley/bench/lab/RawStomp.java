package dev.parley.bench.lab;

import dev.parley.bench.lab.Measure.Call;
import dev.parley.bench.lab.RequestReply.Hello;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A minimal STOMP 1.2 client written straight on a socket, for the raw side of request/reply: no
 * heart-beats, no receipts (the reply is the confirmation), no header escaping beyond what it
 * needs.
 */
public final class RawStomp implements AutoCloseable {

  /** A frame as read: its command, headers (the first of repeated ones) and body. */
  public record Frame(String command, Map<String, String> headers, byte[] body) {}

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  private RawStomp(String host, int port) throws IOException {
    socket = new Socket(host, port);
    socket.setTcpNoDelay(true);
    in = new BufferedInputStream(socket.getInputStream(), 65536);
    out = new BufferedOutputStream(socket.getOutputStream(), 65536);
    write(
        "CONNECT",
        Map.of("accept-version", "1.2", "host", "/", "login", "guest", "passcode", "guest"),
        new byte[0]);
    Frame connected = read();
    if (!connected.command().equals("CONNECTED")) {
      throw new IOException("STOMP: " + connected.command() + " " + connected.headers());
    }
  }

  static RawStomp connect(String host, int port) throws IOException {
    return new RawStomp(host, port);
  }

  /**
   * A responder and a requester on two connections: requests persistent to {@code /queue/<queue>},
   * acked one by one after the reply was written; replies on {@code /queue/<queue>.replies}.
   */
  static Call requestReply(String host, int port, String queue, Resources resources)
      throws IOException {
    return requestReply(host, port, queue, resources, false);
  }

  /**
   * {@link #requestReply(String, int, String, Resources)}; with {@code parleyFrames} the broker
   * gets Parley's frames (docs/wire.md §8): a request's id, type and source as the plugin's {@code
   * amqp-message-id}, {@code type} and {@code app-id} lines and its reply address, token and
   * deadline as {@code parley-reply-to}, {@code parley-reply-token} and {@code parley-deadline}
   * (ten lines against six); a reply's own id, the request's id as {@code correlation-id} and the
   * token, without a {@code persistent} line, to {@code /amq/queue/parley.reply.…} — a non-durable,
   * auto-delete queue — (six lines against four). The client, codec and threads stay the raw
   * client's.
   */
  static Call requestReply(
      String host, int port, String queue, Resources resources, boolean parleyFrames)
      throws IOException {
    RawStomp server = new RawStomp(host, port);
    RawStomp client = new RawStomp(host, port);
    resources.add(server);
    resources.add(client);
    String requests = "/queue/" + queue;
    String replyQueue = "parley.reply.lab-wire." + queue;
    String replies = parleyFrames ? "/queue/" + replyQueue : "/queue/" + queue + ".replies";
    AtomicLong replyIds = new AtomicLong();
    server.write("SUBSCRIBE", clientAcked(requests, RequestReply.PREFETCH), new byte[0]);
    server.loop(
        f -> {
          Hello hello = RequestReply.MAPPER.readValue(f.body(), Hello.class);
          Map<String, String> h = new LinkedHashMap<>();
          if (parleyFrames) {
            h.put("destination", "/amq/queue/" + f.headers().get("parley-reply-to"));
            h.put("content-type", "application/json");
            h.put("amqp-message-id", RequestReply.wireId(replyIds.incrementAndGet()));
            h.put("correlation-id", f.headers().get("amqp-message-id"));
            h.put("parley-reply-token", f.headers().get("parley-reply-token"));
          } else {
            h.put("destination", f.headers().get("reply-to"));
            h.put("correlation-id", f.headers().get("correlation-id"));
            h.put("content-type", "application/json");
          }
          server.write("SEND", h, RequestReply.MAPPER.writeValueAsBytes(hello));
          server.write("ACK", Map.of("id", f.headers().get("ack")), new byte[0]);
        });
    Map<String, CompletableFuture<Hello>> pending = new ConcurrentHashMap<>();
    Map<String, String> subscribe = new LinkedHashMap<>();
    subscribe.put("destination", replies);
    subscribe.put("id", "1");
    subscribe.put("ack", "auto");
    if (parleyFrames) {
      subscribe.put("durable", "false");
      subscribe.put("auto-delete", "true");
    }
    client.write("SUBSCRIBE", subscribe, new byte[0]);
    client.loop(
        f -> {
          CompletableFuture<Hello> reply = pending.remove(f.headers().get("correlation-id"));
          if (reply != null) {
            reply.complete(RequestReply.MAPPER.readValue(f.body(), Hello.class));
          }
        });
    byte[] body = RequestReply.MAPPER.writeValueAsBytes(RequestReply.REQUEST);
    AtomicLong ids = new AtomicLong();
    return () -> {
      long n = ids.incrementAndGet();
      String id = parleyFrames ? RequestReply.wireId(n) : Long.toString(n);
      CompletableFuture<Hello> reply = new CompletableFuture<>();
      pending.put(id, reply);
      Map<String, String> h = new LinkedHashMap<>();
      h.put("destination", requests);
      if (parleyFrames) {
        h.put("persistent", "true");
        h.put("content-type", "application/json");
        h.put("amqp-message-id", id);
        h.put("type", Hello.class.getName());
        h.put("app-id", "lab-client");
        h.put("parley-reply-to", replyQueue);
        h.put("parley-reply-token", RequestReply.WIRE_TOKEN);
        h.put(
            "parley-deadline",
            Long.toString(System.currentTimeMillis() + RequestReply.TIMEOUT.toMillis()));
      } else {
        h.put("reply-to", replies);
        h.put("correlation-id", id);
        h.put("persistent", "true");
        h.put("content-type", "application/json");
      }
      try {
        client.write("SEND", h, body);
      } catch (IOException e) {
        pending.remove(id);
        reply.completeExceptionally(e);
      }
      return reply;
    };
  }

  interface MessageHandler {
    void handle(Frame message) throws IOException;
  }

  /** Reads frames on a daemon thread until the socket closes, handing MESSAGE frames over. */
  void loop(MessageHandler handler) {
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  Frame f = read();
                  if (f.command().equals("MESSAGE")) {
                    handler.handle(f);
                  } else if (f.command().equals("ERROR")) {
                    System.err.println("lab: raw STOMP ERROR " + f.headers());
                  }
                }
              } catch (IOException e) {
                // closed
              }
            },
            "lab-raw-stomp");
    t.setDaemon(true);
    t.start();
  }

  void write(String command, Map<String, String> headers, byte[] body) throws IOException {
    writeFrame(out, command, headers, body);
  }

  Frame read() throws IOException {
    return readFrame(in);
  }

  /** SUBSCRIBE headers: subscription id 1, {@code client-individual} acks, a prefetch. */
  public static Map<String, String> clientAcked(String destination, int prefetch) {
    return Map.of(
        "destination",
        destination,
        "id",
        "1",
        "ack",
        "client-individual",
        "prefetch-count",
        Integer.toString(prefetch));
  }

  /** Writes and flushes one frame; {@code out} is the lock, so threads may share it. */
  public static void writeFrame(
      OutputStream out, String command, Map<String, String> headers, byte[] body)
      throws IOException {
    StringBuilder f = new StringBuilder(command).append('\n');
    headers.forEach((k, v) -> f.append(k).append(':').append(v).append('\n'));
    if (body.length > 0) {
      f.append("content-length:").append(body.length).append('\n');
    }
    f.append('\n');
    synchronized (out) {
      out.write(f.toString().getBytes(StandardCharsets.UTF_8));
      out.write(body);
      out.write(0);
      out.flush();
    }
  }

  /** Reads one frame (heart-beats before it skipped). */
  public static Frame readFrame(InputStream in) throws IOException {
    Map<String, String> headers = new HashMap<>();
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    String command = null;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed");
      }
      if (b != '\n') {
        line.write(b);
        continue;
      }
      String text = line.toString(StandardCharsets.UTF_8);
      line.reset();
      if (command == null) {
        if (!text.isEmpty()) {
          command = text; // empty lines before a command are heart-beats
        }
        continue;
      }
      if (text.isEmpty()) {
        break;
      }
      int colon = text.indexOf(':');
      headers.putIfAbsent(text.substring(0, colon), text.substring(colon + 1));
    }
    byte[] body;
    String length = headers.get("content-length");
    if (length != null) {
      body = in.readNBytes(Integer.parseInt(length));
      in.read(); // NUL
    } else {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) > 0) {
        b.write(c);
      }
      body = b.toByteArray();
    }
    return new Frame(command, headers, body);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
