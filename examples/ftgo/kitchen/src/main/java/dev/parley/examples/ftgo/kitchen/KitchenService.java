package dev.parley.examples.ftgo.kitchen;

import static dev.parley.examples.ftgo.common.Contracts.KITCHEN_COMMANDS;
import static dev.parley.examples.ftgo.common.Contracts.ORDER_REPLIES;

import dev.parley.examples.ftgo.common.Contracts.CreateTicket;
import dev.parley.examples.ftgo.common.Contracts.LineItem;
import dev.parley.examples.ftgo.common.Contracts.OrderEvent;
import dev.parley.examples.ftgo.common.Contracts.TicketReply;
import dev.parley.examples.ftgo.common.ServiceRuntime;
import dev.parley.messaging.MessageHandler;
import dev.parley.messaging.Subscription;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * The Kitchen service: takes {@code CreateTicket} commands from the broker (through the inbox, so a
 * redelivered command creates one ticket) and answers each on the Order service's reply channel
 * through the outbox, in the same transaction. It accepts the ticket when the order is approved and
 * cancels it when the order is rejected (order events, group {@code kitchen}).
 *
 * <p>While the service is down, commands wait in the broker and are handled when it returns.
 */
public final class KitchenService implements AutoCloseable {

  /** A dish the kitchen refuses (sold out). */
  public static final String UNAVAILABLE_DISH = "fugu";

  public static final int MAX_QUANTITY = 20;

  private final ServiceRuntime runtime;
  private final MessageHandler<CreateTicket> commands;
  private final Subscription events;
  private final Subscription commandSubscription;

  private KitchenService(ServiceRuntime runtime) {
    this.runtime = runtime;
    runtime.inTransaction(KitchenService::createTables);
    this.commands = runtime.inbox().handler("kitchen", (command, ctx, c) -> onCommand(command, c));
    this.events =
        runtime.subscribeOrderEvents("kitchen-events", (event, ctx, c) -> onEvent(event, c));
    this.commandSubscription = subscribeCommands();
  }

  public static KitchenService start(ServiceRuntime runtime) {
    return new KitchenService(runtime);
  }

  private static Void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS tickets (order_id VARCHAR(40) PRIMARY KEY, ticket_id"
              + " VARCHAR(40), state VARCHAR(20), items VARCHAR(400))");
    }
    return null;
  }

  private Subscription subscribeCommands() {
    return runtime
        .messaging()
        .serve(
            KITCHEN_COMMANDS,
            (CreateTicket command, dev.parley.messaging.MessageContext ctx) -> {
              commands.handle(command, ctx);
              return null;
            },
            runtime.consuming());
  }

  /** In the inbox's transaction: the ticket and the reply (through the outbox) commit together. */
  private void onCommand(CreateTicket command, Connection c) throws SQLException {
    String reason = null;
    for (LineItem item : command.items()) {
      if (item.dish().equals(UNAVAILABLE_DISH)) {
        reason = "kitchen.dish_unavailable: " + item.dish();
      } else if (item.quantity() > MAX_QUANTITY) {
        reason = "kitchen.too_many: " + item.quantity() + " " + item.dish();
      }
    }
    String ticketId = reason == null ? "ticket-" + command.orderId() : null;
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO tickets VALUES (?, ?, ?, ?)")) {
      ps.setString(1, command.orderId());
      ps.setString(2, ticketId);
      ps.setString(3, reason == null ? "CREATED" : "REJECTED");
      ps.setString(4, command.items().toString());
      ps.executeUpdate();
    }
    runtime
        .outbox()
        .send(
            c, ORDER_REPLIES, new TicketReply(command.orderId(), ticketId, reason == null, reason));
  }

  private void onEvent(OrderEvent event, Connection c) throws SQLException {
    String state =
        switch (event.kind()) {
          case ORDER_APPROVED -> "ACCEPTED";
          case ORDER_REJECTED -> "CANCELLED";
          default -> null;
        };
    if (state == null) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tickets SET state = ? WHERE order_id = ? AND state = 'CREATED'")) {
      ps.setString(1, state);
      ps.setString(2, event.orderId());
      ps.executeUpdate();
    }
  }

  /** Tickets per state, e.g. {@code ACCEPTED=12}. */
  public Map<String, Long> tickets() {
    return runtime.countByState("tickets");
  }

  @Override
  public void close() {
    commandSubscription.close();
    events.close();
  }

  /** Runs the Kitchen service in its own process. */
  public static void main(String[] args) throws InterruptedException {
    try (ServiceRuntime runtime = ServiceRuntime.start("kitchen");
        KitchenService service = start(runtime)) {
      System.out.println("kitchen service: serving " + KITCHEN_COMMANDS.name());
      new java.util.concurrent.CountDownLatch(1).await();
    }
  }
}
