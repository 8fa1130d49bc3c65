package dev.parley.testing.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.RemoteException;
import dev.parley.messaging.Channel;
import dev.parley.messaging.DeliveryInterceptor;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Request/reply with a message larger than one side's transport reads (RabbitMQ's {@code
 * maxInboundMessageSize}, STOMP's {@code maxFrameBytes}; AMQP 1.0 has no such limit): the other
 * side hears so at once, with a typed error that no policy retries, instead of at its deadline. The
 * two messagings are built by the caller, with a JSON codec.
 */
public final class OversizeScenarios {

  /** A command. */
  public record CreateTicket(String orderId) {}

  /** Its reply. */
  public record TicketCreated(String ticketId) {}

  private OversizeScenarios() {}

  /**
   * A request of about {@code size} bytes, more than {@code responder} reads: its caller gets the
   * failure reply {@code INVALID_ARGUMENT parley.message.too_large} well within its 30 s deadline;
   * the next request is answered; the responder counts 1 dead-lettered and 1 handled, and its
   * interceptor saw both, the first as dead-lettered.
   */
  public static void aRequestOverTheRespondersLimitIsAnsweredWithTheFailure(
      Messaging caller, Messaging responder, String channel, int size) throws Exception {
    Channel<CreateTicket> commands = Channel.command(channel, CreateTicket.class);
    List<String> outcomes = new CopyOnWriteArrayList<>();
    DeliveryInterceptor recording =
        inv ->
            inv.proceed()
                .whenComplete(
                    (v, e) ->
                        outcomes.add(
                            inv.outcome().map(Enum::name).orElse("none")
                                + inv.failure()
                                    .map(f -> " " + ((ParleyException) f).errorCode())
                                    .orElse("")));
    responder.serve(
        commands,
        (CreateTicket c, MessageContext ctx) -> new TicketCreated("t"),
        responder.defaultSubscriptionOptions().withInterceptor(recording));
    failsAtOnce(
        caller.request(
            commands,
            new CreateTicket("o-" + "z".repeat(size)),
            TicketCreated.class,
            Duration.ofSeconds(30)),
        RemoteException.class);
    answers(caller, commands, "o-1");
    assertThat(responder.metrics().deadLettered()).isEqualTo(1);
    assertThat(responder.metrics().handled()).isEqualTo(1);
    // The transport dead-lettered the large one itself; the subscription's interceptors saw it.
    // (recorded once the chain's stage completes, which may be just after the caller's answer)
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(outcomes)
                    .containsExactlyInAnyOrder(
                        "DEAD_LETTERED parley.message.too_large", "HANDLED"));
  }

  /**
   * A reply of about {@code size} bytes, more than {@code caller} reads: the call fails with {@code
   * BadInputException parley.message.too_large} (not retryable) well within its 30 s deadline; the
   * next call is answered.
   */
  public static void aReplyOverTheCallersLimitFailsTheCallAtOnce(
      Messaging caller, Messaging responder, String channel, int size) throws Exception {
    Channel<CreateTicket> commands = Channel.command(channel, CreateTicket.class);
    responder.serve(
        commands,
        (CreateTicket c, MessageContext ctx) ->
            new TicketCreated(c.orderId().equals("big") ? "t".repeat(size) : "t"));
    failsAtOnce(
        caller.request(
            commands, new CreateTicket("big"), TicketCreated.class, Duration.ofSeconds(30)),
        BadInputException.class);
    answers(caller, commands, "small");
  }

  private static void failsAtOnce(
      CompletableFuture<TicketCreated> call,
      Class<? extends dev.parley.error.ParleyException> type) {
    long started = System.nanoTime();
    assertThatThrownBy(() -> call.get(20, TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(
            type,
            e -> {
              assertThat(e.errorCode()).isEqualTo("parley.message.too_large");
              assertThat(e.status().code()).isEqualTo(Code.INVALID_ARGUMENT);
              assertThat(e.isRetryable()).isFalse();
            });
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("failed at once, not at the deadline")
        .isLessThan(Duration.ofSeconds(20));
  }

  private static void answers(Messaging caller, Channel<CreateTicket> commands, String orderId)
      throws Exception {
    assertThat(
            caller
                .request(
                    commands,
                    new CreateTicket(orderId),
                    TicketCreated.class,
                    Duration.ofSeconds(20))
                .get(20, TimeUnit.SECONDS))
        .isEqualTo(new TicketCreated("t"));
  }
}
