package dev.parley.examples.ftgo.order;

import static dev.parley.examples.ftgo.common.Contracts.AUTHORIZE_CARD;
import static dev.parley.examples.ftgo.common.Contracts.GET_ORDER;
import static dev.parley.examples.ftgo.common.Contracts.KITCHEN_COMMANDS;
import static dev.parley.examples.ftgo.common.Contracts.LIST_ORDERS;
import static dev.parley.examples.ftgo.common.Contracts.ORDER_EVENTS;
import static dev.parley.examples.ftgo.common.Contracts.ORDER_REPLIES;
import static dev.parley.examples.ftgo.common.Contracts.PLACE_ORDER;
import static dev.parley.examples.ftgo.common.Contracts.VALIDATE_ORDER;

import com.linecorp.armeria.client.endpoint.EndpointGroup;
import dev.parley.error.Code;
import dev.parley.error.ParleyException;
import dev.parley.error.Status;
import dev.parley.examples.ftgo.common.Contracts;
import dev.parley.examples.ftgo.common.Contracts.Authorization;
import dev.parley.examples.ftgo.common.Contracts.AuthorizeCard;
import dev.parley.examples.ftgo.common.Contracts.CreateTicket;
import dev.parley.examples.ftgo.common.Contracts.LineItem;
import dev.parley.examples.ftgo.common.Contracts.ListOrders;
import dev.parley.examples.ftgo.common.Contracts.OrderEvent;
import dev.parley.examples.ftgo.common.Contracts.OrderEventKind;
import dev.parley.examples.ftgo.common.Contracts.OrderView;
import dev.parley.examples.ftgo.common.Contracts.Orders;
import dev.parley.examples.ftgo.common.Contracts.PlaceOrder;
import dev.parley.examples.ftgo.common.Contracts.Step;
import dev.parley.examples.ftgo.common.Contracts.TicketReply;
import dev.parley.examples.ftgo.common.Contracts.ValidateOrder;
import dev.parley.examples.ftgo.common.FtgoConfig;
import dev.parley.examples.ftgo.common.ServiceRuntime;
import dev.parley.messaging.MessageHandler;
import dev.parley.messaging.Subscription;
import dev.parley.operation.CallContext;
import dev.parley.policy.Policy;
import dev.parley.rpc.Binding;
import dev.parley.rpc.Endpoints;
import dev.parley.rpc.RpcClient;
import dev.parley.rpc.RpcServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The Order service and its saga. Placing an order:
 *
 * <ol>
 *   <li>creates it ({@code APPROVAL_PENDING}) and publishes OrderCreated through the outbox;
 *   <li>validates the consumer with a synchronous REST call to the Consumer service;
 *   <li>authorizes the card with a synchronous gRPC call to Accounting;
 *   <li>sends CreateTicket to the Kitchen through the outbox — an asynchronous command — and
 *       returns;
 *   <li>when the Kitchen's reply arrives (through the inbox), approves or rejects the order and
 *       publishes OrderApproved or OrderRejected.
 * </ol>
 *
 * A failed step rejects the order and publishes OrderRejected; Accounting voids the authorization
 * when it sees it (the compensation). If the Kitchen is down, the command waits in the broker and
 * the order completes when it returns. Every step is recorded with its style and duration for the
 * page ({@code /}) and the scenario summary.
 */
public final class OrderService implements AutoCloseable {

  private final ServiceRuntime runtime;
  private final RpcClient consumers;
  private final RpcClient accounting;
  private final RpcServer server;
  private final Subscription replies;

  private OrderService(
      ServiceRuntime runtime,
      int port,
      EndpointGroup consumerEndpoints,
      EndpointGroup accountingEndpoints) {
    this.runtime = runtime;
    runtime.inTransaction(OrderService::createTables);
    Policy sync =
        Policy.builder()
            .name("ftgo-sync")
            .deadline(Duration.ofSeconds(3))
            .retry(3, Duration.ofMillis(50), Duration.ofMillis(500))
            .circuitBreaker(50, 20, Duration.ofSeconds(5), 2)
            .build();
    this.consumers =
        RpcClient.builder().binding(Binding.REST).endpoints(consumerEndpoints).policy(sync).build();
    this.accounting =
        RpcClient.builder()
            .binding(Binding.GRPC)
            .endpoints(accountingEndpoints)
            .policy(sync)
            .build();
    MessageHandler<TicketReply> onReply =
        runtime.inbox().handler("order", (reply, ctx, c) -> onTicketReply(reply, c));
    this.replies =
        runtime
            .messaging()
            .serve(
                ORDER_REPLIES,
                (TicketReply reply, dev.parley.messaging.MessageContext ctx) -> {
                  onReply.handle(reply, ctx);
                  return null;
                },
                runtime.consuming());
    this.server =
        RpcServer.builder()
            .port(port)
            .serve(PLACE_ORDER, this::place)
            .serve(GET_ORDER, (request, ctx) -> view(request.orderId()))
            .serve(LIST_ORDERS, this::list)
            .resource("/", "text/html; charset=utf-8", page())
            .build()
            .start();
  }

  /**
   * Starts the Order service on {@code port}, calling the Consumer service at {@code consumers}
   * (REST) and Accounting at {@code accounting} (gRPC).
   */
  public static OrderService start(
      ServiceRuntime runtime, int port, EndpointGroup consumers, EndpointGroup accounting) {
    return new OrderService(runtime, port, consumers, accounting);
  }

  private static Void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS orders (id VARCHAR(40) PRIMARY KEY, consumer_id VARCHAR(40),"
              + " restaurant VARCHAR(100), dish VARCHAR(100), quantity INT, total_cents BIGINT,"
              + " card VARCHAR(40), state VARCHAR(30), reason VARCHAR(300), next_seq INT,"
              + " command_sent_at BIGINT, created_at BIGINT)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS order_steps (order_id VARCHAR(40), idx INT, name"
              + " VARCHAR(100), style VARCHAR(40), millis BIGINT, outcome VARCHAR(300), at_millis"
              + " BIGINT, PRIMARY KEY (order_id, idx))");
    }
    return null;
  }

  // ---- the saga ----

  private OrderView place(PlaceOrder request, CallContext ctx) {
    if (request.quantity() < 1) {
      throw Status.of(Code.INVALID_ARGUMENT, "order.bad_quantity", "quantity must be > 0")
          .asException();
    }
    String orderId = "o-" + UUID.randomUUID().toString().substring(0, 8);
    long total = Contracts.priceCents(request.dish()) * request.quantity();
    long now = System.currentTimeMillis();
    runtime.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, 'APPROVAL_PENDING', NULL, 2,"
                      + " NULL, ?)")) {
            ps.setString(1, orderId);
            ps.setString(2, request.consumerId());
            ps.setString(3, request.restaurant());
            ps.setString(4, request.dish());
            ps.setInt(5, request.quantity());
            ps.setLong(6, total);
            ps.setString(7, request.card());
            ps.setLong(8, now);
            ps.executeUpdate();
          }
          publish(c, orderId, OrderEventKind.ORDER_CREATED, 1, request.consumerId(), total, "");
          step(c, orderId, "OrderCreated published", "event (outbox)", 0, "ok");
          return null;
        });

    long t0 = System.nanoTime();
    try {
      consumers.call(VALIDATE_ORDER, new ValidateOrder(request.consumerId(), total));
      record(orderId, "consumer validated", "REST", t0, "ok");
    } catch (ParleyException e) {
      record(orderId, "consumer validated", "REST", t0, e.errorCode());
      return reject(orderId, "consumer: " + e.errorCode());
    }

    long t1 = System.nanoTime();
    Authorization authorization;
    try {
      authorization =
          accounting.call(
              AUTHORIZE_CARD,
              new AuthorizeCard(orderId, request.consumerId(), request.card(), total));
      record(orderId, "card authorized", "gRPC", t1, authorization.authorizationId());
    } catch (ParleyException e) {
      record(orderId, "card authorized", "gRPC", t1, e.errorCode());
      return reject(orderId, "accounting: " + e.errorCode());
    }

    runtime.inTransaction(
        c -> {
          runtime
              .outbox()
              .send(
                  c,
                  KITCHEN_COMMANDS,
                  new CreateTicket(
                      orderId,
                      request.restaurant(),
                      List.of(new LineItem(request.dish(), request.quantity()))));
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE orders SET command_sent_at = ? WHERE id = ?")) {
            ps.setLong(1, System.currentTimeMillis());
            ps.setString(2, orderId);
            ps.executeUpdate();
          }
          step(c, orderId, "CreateTicket sent", "command (outbox)", 0, "ok");
          return null;
        });
    return view(orderId);
  }

  /** In the inbox's transaction: the kitchen answered. */
  private void onTicketReply(TicketReply reply, Connection c) throws SQLException {
    long sentAt;
    String consumerId;
    long total;
    int seq;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT state, command_sent_at, consumer_id, total_cents, next_seq FROM orders WHERE"
                + " id = ? FOR UPDATE")) {
      ps.setString(1, reply.orderId());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || !rs.getString(1).equals("APPROVAL_PENDING")) {
          return; // unknown or already decided
        }
        sentAt = rs.getLong(2);
        consumerId = rs.getString(3);
        total = rs.getLong(4);
        seq = rs.getInt(5);
      }
    }
    long millis = Math.max(0, System.currentTimeMillis() - sentAt);
    if (reply.accepted()) {
      step(c, reply.orderId(), "ticket created", "command reply", millis, reply.ticketId());
      decide(c, reply.orderId(), "APPROVED", null, seq);
      publish(
          c,
          reply.orderId(),
          OrderEventKind.ORDER_APPROVED,
          seq,
          consumerId,
          total,
          reply.ticketId());
      step(c, reply.orderId(), "OrderApproved published", "event (outbox)", 0, "ok");
    } else {
      step(c, reply.orderId(), "ticket refused", "command reply", millis, reply.reason());
      decide(c, reply.orderId(), "REJECTED", "kitchen: " + reply.reason(), seq);
      publish(
          c,
          reply.orderId(),
          OrderEventKind.ORDER_REJECTED,
          seq,
          consumerId,
          total,
          reply.reason());
      step(c, reply.orderId(), "OrderRejected published", "event (outbox)", 0, "compensate");
    }
  }

  private OrderView reject(String orderId, String reason) {
    runtime.inTransaction(
        c -> {
          String consumerId;
          long total;
          int seq;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT consumer_id, total_cents, next_seq FROM orders WHERE id = ? FOR UPDATE")) {
            ps.setString(1, orderId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              consumerId = rs.getString(1);
              total = rs.getLong(2);
              seq = rs.getInt(3);
            }
          }
          decide(c, orderId, "REJECTED", reason, seq);
          publish(c, orderId, OrderEventKind.ORDER_REJECTED, seq, consumerId, total, reason);
          step(c, orderId, "OrderRejected published", "event (outbox)", 0, "compensate");
          return null;
        });
    return view(orderId);
  }

  private static void decide(Connection c, String orderId, String state, String reason, int seq)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE orders SET state = ?, reason = ?, next_seq = ? WHERE id = ?")) {
      ps.setString(1, state);
      ps.setString(2, reason);
      ps.setInt(3, seq + 1);
      ps.setString(4, orderId);
      ps.executeUpdate();
    }
  }

  private void publish(
      Connection c,
      String orderId,
      OrderEventKind kind,
      int seq,
      String consumerId,
      long total,
      String detail) {
    runtime
        .outbox()
        .publish(
            c,
            ORDER_EVENTS,
            new OrderEvent(
                orderId, kind, seq, consumerId, total, detail, System.currentTimeMillis()));
  }

  // ---- steps and views ----

  private void record(String orderId, String name, String style, long startNanos, String outcome) {
    long millis = (System.nanoTime() - startNanos) / 1_000_000;
    runtime.inTransaction(
        c -> {
          step(c, orderId, name, style, millis, outcome);
          return null;
        });
  }

  private static void step(
      Connection c, String orderId, String name, String style, long millis, String outcome)
      throws SQLException {
    int idx;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT COALESCE(MAX(idx), 0) + 1 FROM order_steps WHERE order_id = ?")) {
      ps.setString(1, orderId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        idx = rs.getInt(1);
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO order_steps VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, orderId);
      ps.setInt(2, idx);
      ps.setString(3, name);
      ps.setString(4, style);
      ps.setLong(5, millis);
      ps.setString(6, outcome == null ? "" : outcome);
      ps.setLong(7, System.currentTimeMillis());
      ps.executeUpdate();
    }
  }

  private OrderView view(String orderId) {
    return runtime.inTransaction(
        c -> {
          OrderView v = load(c, orderId);
          if (v == null) {
            throw Status.of(Code.NOT_FOUND, "order.not_found", "no order " + orderId).asException();
          }
          return v;
        });
  }

  private Orders list(ListOrders request, CallContext ctx) {
    int limit = request.limit() <= 0 ? 20 : Math.min(request.limit(), 200);
    return runtime.inTransaction(
        c -> {
          List<String> ids = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id FROM orders ORDER BY created_at DESC, id FETCH FIRST "
                      + limit
                      + " ROWS ONLY")) {
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
            }
          }
          List<OrderView> views = new ArrayList<>();
          for (String id : ids) {
            views.add(load(c, id));
          }
          return new Orders(views);
        });
  }

  private static OrderView load(Connection c, String orderId) throws SQLException {
    List<Step> steps = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT name, style, millis, outcome, at_millis FROM order_steps WHERE order_id = ?"
                + " ORDER BY idx")) {
      ps.setString(1, orderId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          steps.add(
              new Step(
                  rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getLong(5)));
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT consumer_id, dish, quantity, total_cents, state, reason FROM orders WHERE id = ?")) {
      ps.setString(1, orderId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new OrderView(
            orderId,
            rs.getString(1),
            rs.getString(2),
            rs.getInt(3),
            rs.getLong(4),
            rs.getString(5),
            rs.getString(6),
            steps);
      }
    }
  }

  /** Every recorded step of every order: style, milliseconds. */
  public List<Step> allSteps() {
    return runtime.inTransaction(
        c -> {
          List<Step> steps = new ArrayList<>();
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT name, style, millis, outcome, at_millis FROM order_steps")) {
            while (rs.next()) {
              steps.add(
                  new Step(
                      rs.getString(1),
                      rs.getString(2),
                      rs.getLong(3),
                      rs.getString(4),
                      rs.getLong(5)));
            }
          }
          return steps;
        });
  }

  public int port() {
    return server.port();
  }

  private static byte[] page() {
    try (InputStream in = OrderService.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IllegalStateException("index.html missing from the order service's jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    replies.close();
    server.close();
    consumers.close();
    accounting.close();
  }

  /** Runs the Order service in its own process. */
  public static void main(String[] args) throws InterruptedException {
    EndpointGroup consumerEndpoints =
        Endpoints.of(FtgoConfig.endpoints("consumer").orElse("127.0.0.1:8081").split(","));
    EndpointGroup accountingEndpoints =
        Endpoints.of(FtgoConfig.endpoints("accounting").orElse("127.0.0.1:8082").split(","));
    try (ServiceRuntime runtime = ServiceRuntime.start("order");
        OrderService service =
            start(
                runtime, FtgoConfig.port("order", 8080), consumerEndpoints, accountingEndpoints)) {
      System.out.println("order service: http://127.0.0.1:" + service.port() + "/");
      new java.util.concurrent.CountDownLatch(1).await();
    }
  }
}
