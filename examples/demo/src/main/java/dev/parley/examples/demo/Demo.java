package dev.parley.examples.demo;

import dev.parley.error.DeadlineExceededException;
import dev.parley.error.ParleyException;
import dev.parley.message.Headers;
import dev.parley.messaging.Channel;
import dev.parley.messaging.MessageContext;
import dev.parley.messaging.Messaging;
import dev.parley.messaging.Redelivery;
import dev.parley.messaging.SubscriptionOptions;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Two services talking over a broker: an order service and a kitchen service. It shows each
 * asynchronous style once — an event, a one-way command, a request/reply within its deadline, one
 * that misses its deadline, and a failing handler retried into the dead-letter channel — printing
 * what happens, with times since the start.
 */
public final class Demo {

  /** Events of the order service. */
  public record OrderCreated(String orderId, String dish, int total) {}

  /** A one-way command to the kitchen. */
  public record RestockPantry(String item, int quantity) {}

  /** A command the kitchen answers. */
  public record CreateTicket(String orderId, String dish) {}

  public record TicketCreated(String ticketId, int minutes) {}

  /** What the demo observed, for tests. */
  public record Outcome(
      int eventsHandled,
      int restocks,
      String ticketId,
      boolean slowRequestTimedOut,
      String deadLetterCode) {}

  static final Channel<OrderCreated> ORDER_EVENTS =
      Channel.event("demo.order.events", OrderCreated.class).withMessageType("order.OrderCreated");
  static final Channel<RestockPantry> PANTRY =
      Channel.command("demo.kitchen.pantry", RestockPantry.class);
  static final Channel<CreateTicket> TICKETS =
      Channel.command("demo.kitchen.tickets", CreateTicket.class);

  private final PrintStream out;
  private final long start = System.nanoTime();

  public Demo(PrintStream out) {
    this.out = out;
  }

  /** Runs the scenario with two services; both messaging instances stay open. */
  public Outcome run(Messaging orders, Messaging kitchen) throws InterruptedException {
    CountDownLatch eventsSeen = new CountDownLatch(2);
    CountDownLatch restocked = new CountDownLatch(1);
    CountDownLatch deadLettered = new CountDownLatch(1);
    String[] deadLetterCode = new String[1];

    kitchen.subscribe(
        ORDER_EVENTS,
        "kitchen",
        (OrderCreated e, MessageContext ctx) -> {
          print(
              "kitchen-service",
              "<- event "
                  + ctx.message().headers().get(Headers.TYPE)
                  + " "
                  + e.orderId()
                  + " ("
                  + e.dish()
                  + ", group kitchen)");
          eventsSeen.countDown();
        });
    SubscriptionOptions quickRetries =
        kitchen
            .defaultSubscriptionOptions()
            .withRedelivery(
                Redelivery.of(
                    3, Duration.ofMillis(50), Duration.ofMillis(300), Duration.ofMillis(600)));
    kitchen.subscribe(
        ORDER_EVENTS,
        "accounting",
        (OrderCreated e, MessageContext ctx) -> {
          if (e.total() > 1000) {
            print(
                "kitchen-service",
                "   accounting attempt "
                    + ctx.attempt()
                    + " for "
                    + e.orderId()
                    + " fails: total too high");
            throw new IllegalStateException("credit limit exceeded for " + e.orderId());
          }
          print("kitchen-service", "<- accounting books " + e.orderId() + " (" + e.total() + ")");
        },
        quickRetries);
    kitchen.subscribeDeadLetters(
        ORDER_EVENTS,
        "accounting",
        letter -> {
          deadLetterCode[0] = letter.headers().get(Headers.ERROR_CODE);
          print(
              "kitchen-service",
              "<- dead letter "
                  + letter.id().substring(0, 8)
                  + "… after "
                  + letter.headers().get(Headers.ATTEMPT)
                  + " attempts: "
                  + letter.headers().get(Headers.ERROR_CODE)
                  + " / "
                  + letter.headers().get(Headers.ERROR_MESSAGE)
                  + " (from "
                  + letter.headers().get(Headers.ORIGINAL_QUEUE)
                  + ")");
          deadLettered.countDown();
        });
    kitchen.serve(
        PANTRY,
        (RestockPantry c, MessageContext ctx) -> {
          print(
              "kitchen-service", "<- one-way command: restock " + c.quantity() + " x " + c.item());
          restocked.countDown();
          return null;
        });
    kitchen.serve(
        TICKETS,
        (CreateTicket c, MessageContext ctx) -> {
          if (c.dish().equals("slow-roast")) {
            print(
                "kitchen-service",
                "<- request for " + c.orderId() + ": slow-roast takes a while...");
            TimeUnit.MILLISECONDS.sleep(1500); // simulated slow work, past the caller's deadline
          }
          print("kitchen-service", "-> reply ticket for " + c.orderId());
          return new TicketCreated("ticket-" + c.orderId(), 12);
        });

    orders.publish(ORDER_EVENTS, new OrderCreated("o-1", "paneer tikka", 24)).join();
    print("order-service", "-> published OrderCreated o-1 to " + ORDER_EVENTS.name());
    orders.publish(ORDER_EVENTS, new OrderCreated("o-2", "caviar", 5000)).join();
    print("order-service", "-> published OrderCreated o-2 (total 5000: accounting will refuse it)");

    orders.send(PANTRY, new RestockPantry("basmati", 20)).join();
    print("order-service", "-> sent one-way command RestockPantry");

    long t0 = System.nanoTime();
    TicketCreated ticket =
        orders
            .request(
                TICKETS,
                new CreateTicket("o-1", "paneer tikka"),
                TicketCreated.class,
                Duration.ofSeconds(2))
            .join();
    print(
        "order-service",
        "<- reply "
            + ticket.ticketId()
            + " in "
            + (System.nanoTime() - t0) / 1_000_000
            + " ms (deadline 2 s)");

    boolean timedOut = false;
    try {
      orders
          .request(
              TICKETS,
              new CreateTicket("o-3", "slow-roast"),
              TicketCreated.class,
              Duration.ofMillis(500))
          .join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof DeadlineExceededException d) {
        timedOut = true;
        print(
            "order-service",
            "x  request for o-3 failed: "
                + ((ParleyException) d).errorCode()
                + " (deadline 500 ms)");
      } else {
        throw e;
      }
    }

    boolean done =
        eventsSeen.await(30, TimeUnit.SECONDS)
            & restocked.await(30, TimeUnit.SECONDS)
            & deadLettered.await(30, TimeUnit.SECONDS);
    if (!done) {
      throw new IllegalStateException("demo did not complete within 30 s");
    }
    return new Outcome(
        2 - (int) eventsSeen.getCount(),
        1 - (int) restocked.getCount(),
        ticket.ticketId(),
        timedOut,
        deadLetterCode[0]);
  }

  void print(String service, String text) {
    long ms = (System.nanoTime() - start) / 1_000_000;
    out.printf("[%5d ms] %-16s %s%n", ms, service, text);
    out.flush();
  }
}
