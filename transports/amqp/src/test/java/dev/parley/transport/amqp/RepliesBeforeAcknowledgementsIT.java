package dev.parley.transport.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.parley.message.Headers;
import dev.parley.message.Message;
import dev.parley.testing.kit.EmbeddedBrokerExtension;
import dev.parley.transport.spi.ConsumerSettings;
import dev.parley.transport.spi.Delivery;
import dev.parley.transport.spi.Destination;
import dev.parley.transport.spi.HandlerThread;
import dev.parley.transport.spi.SendOptions;
import dev.parley.transport.spi.Settlement;
import dev.parley.transport.spi.TransportSubscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How an AMQP 1.0 consumer answers requests (issue 17, point 5): the reply goes out just before the
 * request's acknowledgement, on the same thread (the subscription's settle thread, or the handler
 * thread the two calls are made on), without waiting for the broker's outcome, and the request is
 * acknowledged after it.
 */
class RepliesBeforeAcknowledgementsIT {

  @RegisterExtension static final EmbeddedBrokerExtension broker = new EmbeddedBrokerExtension();

  private AmqpTransport responder;
  private AmqpTransport requester;

  @BeforeEach
  void connect() {
    // a short close bound: the second test closes a subscription that still holds a delivery
    responder =
        AmqpTransport.builder(broker.amqpUri()).closeTimeout(Duration.ofMillis(300)).build();
    requester = AmqpTransport.builder(broker.amqpUri()).build();
  }

  @AfterEach
  void close() {
    responder.close();
    requester.close();
  }

  private static Message reply(Message request) {
    return Message.builder()
        .header(Headers.CORRELATION_ID, request.id())
        .header(Headers.CONTENT_TYPE, "text/plain")
        .payload("pong".getBytes(StandardCharsets.UTF_8))
        .build();
  }

  @Test
  void everyReplyArrivesAndEveryRequestIsAcknowledgedAfterIt() {
    answerAll("rio.requests", "rio.replies", Runnable::run);
  }

  /**
   * The same answered on handler threads, as a blocking handler's are: the reply and the
   * acknowledgement are made there (Qpid JMS's calls wait for its provider thread), from two
   * threads at once, and nothing is lost or left unacknowledged.
   */
  @Test
  void repliesAndAcknowledgementsMadeOnHandlerThreads() {
    ExecutorService handlers =
        Executors.newFixedThreadPool(2, r -> new HandlerThread(r, "rio-handler"));
    try {
      answerAll("rio.handled", "rio.handled.replies", handlers);
    } finally {
      handlers.shutdownNow();
    }
  }

  private void answerAll(String requests, String replies, Executor on) {
    int n = 200;
    List<Message> received = new CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> handedOver = new CopyOnWriteArrayList<>();
    try (TransportSubscription answers =
            requester.subscribe(
                new Destination.Queue(replies),
                new ConsumerSettings(1, 50, false),
                (d, s) -> {
                  received.add(d.message());
                  s.ack();
                });
        TransportSubscription serving =
            responder.subscribe(
                new Destination.Queue(requests),
                new ConsumerSettings(2, 16, false),
                (Delivery d, Settlement s) ->
                    on.execute(
                        () -> {
                          CompletableFuture<Void> sent =
                              s.replyInOrder(new Destination.Queue(replies), reply(d.message()));
                          handedOver.add(sent);
                          s.ack();
                        }))) {
      for (int i = 0; i < n; i++) {
        requester
            .send(
                new Destination.Queue(requests),
                Message.builder().header(Headers.REPLY_TO, replies).build(),
                SendOptions.NONE)
            .join();
      }

      await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == n);
      // the in-order path was taken for every request, and each was handed over at once
      assertThat(handedOver).hasSize(n).allMatch(f -> f != null && f.isDone());
      assertThat(received)
          .allSatisfy(
              m -> assertThat(new String(m.payload(), StandardCharsets.UTF_8)).isEqualTo("pong"));
      // and every request was accepted after its reply: nothing left on the queue
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> broker.broker().messageCount(requests) == 0);
    }
  }

  @Test
  void aClosedSubscriptionDeclinesSoTheReplyTakesTheConfirmedPath() {
    String requests = "rio.closing";
    List<Settlement> held = new CopyOnWriteArrayList<>();
    TransportSubscription serving =
        responder.subscribe(
            new Destination.Queue(requests),
            new ConsumerSettings(1, 4, false),
            (d, s) -> held.add(s));
    requester
        .send(new Destination.Queue(requests), Message.builder().build(), SendOptions.NONE)
        .join();
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1);

    serving.close();

    assertThat(
            held.get(0)
                .replyInOrder(
                    new Destination.Queue("rio.nobody"), reply(Message.builder().build())))
        .isNull();
  }
}
