package dev.parley.testing.tck;

import dev.parley.codec.Codecs;
import dev.parley.messaging.Channel;
import dev.parley.messaging.CommandHandler;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.SubscriptionOptions;
import dev.parley.testing.tck.RequestReplyChaos.Answer;
import dev.parley.testing.tck.RequestReplyChaos.Ask;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * M10's responder as a process of its own, so that it can be killed with {@code SIGKILL}: the
 * operating system closes its connections, the broker gives back what it held. It serves {@code
 * RequestReplyChaos}'s handler on a command channel and writes {@code ready} once it serves, then
 * {@code +} when a request reaches its handler and {@code -} when the handler is done, so the test
 * knows how many requests it holds.
 */
public final class M10Responder {

  private M10Responder() {}

  /** {@code <broker URI> <channel name>}. */
  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    Messaging messaging =
        Messaging.builder()
            .service("m10-responder-process")
            .brokerUri(args[0])
            .codecs(Codecs.discover())
            .build();
    CommandHandler<Ask, Answer> handler = RequestReplyChaos.handler(new AtomicInteger());
    warmUp(messaging, args[1] + ".warm-up." + ProcessHandle.current().pid(), handler);
    messaging.serve(
        Channel.command(args[1], Ask.class),
        (CommandHandler<Ask, Answer>)
            (ask, ctx) -> {
              line(out, "+");
              try {
                return handler.handle(ask, ctx);
              } finally {
                line(out, "-");
              }
            },
        SubscriptionOptions.defaults().withConcurrency(32));
    line(out, "ready");
    new CountDownLatch(1).await(); // until it is killed
  }

  /**
   * Answers 500 requests of its own on a channel of its own before it serves M10's, as a service
   * passes a readiness check before it takes traffic: a cold JVM (classes loading, the codec's
   * first calls) answered its first requests after their 500 ms deadline on a loaded machine.
   */
  private static void warmUp(
      Messaging messaging, String channelName, CommandHandler<Ask, Answer> handler)
      throws Exception {
    Channel<Ask> channel = Channel.command(channelName, Ask.class);
    try (var warmUp = messaging.serve(channel, handler)) {
      for (int round = 0; round < 50; round++) {
        List<java.util.concurrent.CompletableFuture<Answer>> calls = new java.util.ArrayList<>();
        for (int i = 1; i <= 10; i++) { // numbers the handler answers at once (not isSlow)
          calls.add(
              messaging.request(
                  channel, new Ask(i), Answer.class, java.time.Duration.ofSeconds(30)));
        }
        for (var call : calls) {
          call.get(60, TimeUnit.SECONDS);
        }
      }
    }
  }

  private static void line(PrintStream out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  /** Starts a responder JVM and waits until it serves. */
  static Process start(URI broker, String channel) {
    return new Process(broker, channel);
  }

  /** A running responder JVM, seen from the test. */
  static final class Process implements AutoCloseable {
    private final java.lang.Process process;
    private final AtomicInteger inHand = new AtomicInteger();
    private final CountDownLatch ready = new CountDownLatch(1);

    private Process(URI broker, String channel) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb =
          new ProcessBuilder(
                  List.of(
                      java,
                      "-Xmx256m",
                      // a light start: it comes up while the test's calls run on the same CPUs
                      "-XX:TieredStopAtLevel=1",
                      "-XX:+UseSerialGC",
                      "-cp",
                      System.getProperty("java.class.path"),
                      M10Responder.class.getName(),
                      broker.toString(),
                      channel))
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      try {
        process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start a responder JVM", e);
      }
      Thread reader = new Thread(this::read, "m10-responder-output");
      reader.setDaemon(true);
      reader.start();
      try {
        if (!ready.await(60, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException("the responder JVM did not start serving in 60 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    private void read() {
      try (BufferedReader in =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          switch (line) {
            case "+" -> inHand.incrementAndGet();
            case "-" -> inHand.decrementAndGet();
            case "ready" -> ready.countDown();
            default -> {
              // the responder's own log lines
            }
          }
        }
      } catch (IOException e) {
        // the process died
      }
    }

    /** Requests in its handler now, as far as its output has told. */
    int inHand() {
      return inHand.get();
    }

    /** Kills it with {@code SIGKILL} and returns its exit status. */
    int kill() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the responder JVM outlived SIGKILL by 30 s");
      }
      return process.exitValue();
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }
}
