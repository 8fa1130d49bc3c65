package dev.parley.examples.ftgo.common;

import dev.parley.messaging.Channel;
import dev.parley.operation.Operation;
import java.util.List;

/**
 * The FTGO services' contracts, API first: the operations they serve and the channels they use. A
 * service depends on these, never on another service's code.
 *
 * <ul>
 *   <li>Consumer: {@link #VALIDATE_ORDER} — a synchronous REST call;
 *   <li>Accounting: {@link #AUTHORIZE_CARD} — a synchronous gRPC call;
 *   <li>Kitchen: {@link #KITCHEN_COMMANDS} — an asynchronous command, answered on {@link
 *       #ORDER_REPLIES};
 *   <li>Order: {@link #ORDER_EVENTS} — OrderCreated, OrderApproved, OrderRejected, partitioned by
 *       order id, consumed in subscriber groups; {@link #PLACE_ORDER} and {@link #GET_ORDER} for
 *       the page.
 * </ul>
 */
public final class Contracts {

  private Contracts() {}

  // ---- Consumer service: REST ----

  /** Can this consumer place an order of this total? */
  public record ValidateOrder(String consumerId, long totalCents) {}

  public record ConsumerVerified(String consumerId, String name) {}

  public static final Operation<ValidateOrder, ConsumerVerified> VALIDATE_ORDER =
      Operation.of("consumer", "ValidateOrder", ValidateOrder.class, ConsumerVerified.class)
          .withIdempotent(true)
          .withHttp("POST", "/consumers/{consumerId}/validate-order");

  // ---- Accounting service: gRPC ----

  /** Authorizes the order's total on the card; idempotent per order id. */
  public record AuthorizeCard(String orderId, String consumerId, String card, long totalCents) {}

  public record Authorization(String authorizationId, String orderId) {}

  public static final Operation<AuthorizeCard, Authorization> AUTHORIZE_CARD =
      Operation.of("ftgo.Accounting", "AuthorizeCard", AuthorizeCard.class, Authorization.class)
          .withIdempotent(true);

  // ---- Kitchen service: command and reply over the broker ----

  public record LineItem(String dish, int quantity) {}

  public record CreateTicket(String orderId, String restaurant, List<LineItem> items) {}

  /** The kitchen's answer to {@link CreateTicket}. */
  public record TicketReply(String orderId, String ticketId, boolean accepted, String reason) {}

  public static final Channel<CreateTicket> KITCHEN_COMMANDS =
      Channel.command("ftgo.kitchen.commands", CreateTicket.class)
          .withPartitionKey(CreateTicket::orderId);

  public static final Channel<TicketReply> ORDER_REPLIES =
      Channel.command("ftgo.order.replies", TicketReply.class)
          .withPartitionKey(TicketReply::orderId);

  // ---- Order service: events and the page's API ----

  /** What happened to an order. */
  public enum OrderEventKind {
    ORDER_CREATED,
    ORDER_APPROVED,
    ORDER_REJECTED
  }

  /**
   * One order event; {@code seq} numbers the events of one order (1 = created), so consumers can
   * check they arrive in order.
   */
  public record OrderEvent(
      String orderId,
      OrderEventKind kind,
      int seq,
      String consumerId,
      long totalCents,
      String detail,
      long atMillis) {}

  public static final Channel<OrderEvent> ORDER_EVENTS =
      Channel.event("ftgo.order.events", OrderEvent.class).withPartitionKey(OrderEvent::orderId);

  public record PlaceOrder(
      String consumerId, String restaurant, String dish, int quantity, String card) {}

  /** One step of an order as the Order service saw it: which style carried it, how long it took. */
  public record Step(String name, String style, long millis, String outcome, long atMillis) {}

  public record OrderView(
      String orderId,
      String consumerId,
      String dish,
      int quantity,
      long totalCents,
      String state,
      String reason,
      List<Step> steps) {}

  public record GetOrder(String orderId) {}

  public record ListOrders(int limit) {}

  public record Orders(List<OrderView> orders) {}

  public static final Operation<PlaceOrder, OrderView> PLACE_ORDER =
      Operation.of("order", "PlaceOrder", PlaceOrder.class, OrderView.class)
          .withHttp("POST", "/api/orders");

  public static final Operation<GetOrder, OrderView> GET_ORDER =
      Operation.of("order", "GetOrder", GetOrder.class, OrderView.class)
          .withIdempotent(true)
          .withHttp("GET", "/api/orders/{orderId}");

  public static final Operation<ListOrders, Orders> LIST_ORDERS =
      Operation.of("order", "ListOrders", ListOrders.class, Orders.class)
          .withIdempotent(true)
          .withHttp("GET", "/api/orders");

  /**
   * The system's messaging side as an AsyncAPI document: who publishes and consumes which channel
   * (the services' own code does the same in {@code OrderService}, {@code KitchenService} and the
   * event subscribers).
   */
  public static dev.parley.rpc.contract.AsyncApi asyncApi() {
    return dev.parley.rpc.contract.AsyncApi.builder("FTGO", "1")
        .event(ORDER_EVENTS, "order", "accounting")
        .command(KITCHEN_COMMANDS, "kitchen")
        .command(ORDER_REPLIES, "order");
  }

  /** Every operation of the system, for its contract documents (docs/contracts). */
  public static java.util.List<Operation<?, ?>> operations() {
    return java.util.List.of(VALIDATE_ORDER, AUTHORIZE_CARD, PLACE_ORDER, GET_ORDER, LIST_ORDERS);
  }

  /** Prices in cents, per dish; anything else is not on the menu. */
  public static long priceCents(String dish) {
    return switch (dish) {
      case "biryani" -> 1250;
      case "dal" -> 800;
      case "naan" -> 300;
      case "samosa" -> 450;
      default -> 999;
    };
  }
}
