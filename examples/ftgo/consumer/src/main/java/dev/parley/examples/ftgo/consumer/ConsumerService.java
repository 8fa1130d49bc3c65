package dev.parley.examples.ftgo.consumer;

import static dev.parley.examples.ftgo.common.Contracts.VALIDATE_ORDER;

import dev.parley.error.Code;
import dev.parley.error.Status;
import dev.parley.examples.ftgo.common.Contracts.ConsumerVerified;
import dev.parley.examples.ftgo.common.Contracts.OrderEvent;
import dev.parley.examples.ftgo.common.Contracts.OrderEventKind;
import dev.parley.examples.ftgo.common.Contracts.ValidateOrder;
import dev.parley.examples.ftgo.common.FtgoConfig;
import dev.parley.examples.ftgo.common.ServiceRuntime;
import dev.parley.messaging.Subscription;
import dev.parley.operation.CallContext;
import dev.parley.rpc.RpcServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Consumer service: answers "may this consumer order this much?" over REST, and follows every
 * order's events (subscriber group {@code consumer}, idempotently through the inbox), checking they
 * arrive in order.
 */
public final class ConsumerService implements AutoCloseable {

  private final ServiceRuntime runtime;
  private final RpcServer server;
  private final Subscription events;
  private final AtomicLong orderViolations = new AtomicLong();

  /** Milliseconds from an event's publication to its handling here. */
  private final Queue<Long> eventLagMillis = new ConcurrentLinkedQueue<>();

  private ConsumerService(ServiceRuntime runtime, int port) {
    this.runtime = runtime;
    runtime.inTransaction(ConsumerService::createTables);
    this.server =
        RpcServer.builder().port(port).serve(VALIDATE_ORDER, this::validate).build().start();
    this.events = runtime.subscribeOrderEvents("consumer", (event, ctx, c) -> onEvent(event, c));
  }

  public static ConsumerService start(ServiceRuntime runtime, int port) {
    return new ConsumerService(runtime, port);
  }

  private static Void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS consumers (id VARCHAR(40) PRIMARY KEY, name VARCHAR(100),"
              + " limit_cents BIGINT, suspended BOOLEAN)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS consumer_orders (order_id VARCHAR(40) PRIMARY KEY,"
              + " consumer_id VARCHAR(40), last_seq INT, last_kind VARCHAR(20))");
      s.execute("DELETE FROM consumers");
      s.execute(
          "INSERT INTO consumers VALUES ('alice', 'Alice', 100000, FALSE), ('bob', 'Bob', 2500,"
              + " FALSE), ('carol', 'Carol', 100000, TRUE)");
    }
    return null;
  }

  private ConsumerVerified validate(ValidateOrder request, CallContext ctx) {
    return runtime.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT name, limit_cents, suspended FROM consumers WHERE id = ?")) {
            ps.setString(1, request.consumerId());
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                throw Status.of(
                        Code.NOT_FOUND,
                        "consumer.not_found",
                        "no consumer '" + request.consumerId() + "'")
                    .asException();
              }
              if (rs.getBoolean(3)) {
                throw Status.of(
                        Code.FAILED_PRECONDITION, "consumer.suspended", "the consumer is suspended")
                    .asException();
              }
              if (request.totalCents() > rs.getLong(2)) {
                throw Status.of(
                        Code.FAILED_PRECONDITION,
                        "consumer.limit_exceeded",
                        "the total is over the consumer's limit")
                    .asException();
              }
              return new ConsumerVerified(request.consumerId(), rs.getString(1));
            }
          }
        });
  }

  /** In the inbox's transaction: an order's events must come in sequence (1, 2, …). */
  private void onEvent(OrderEvent event, Connection c) throws SQLException {
    eventLagMillis.add(Math.max(0, System.currentTimeMillis() - event.atMillis()));
    int last = 0;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT last_seq FROM consumer_orders WHERE order_id = ?")) {
      ps.setString(1, event.orderId());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          last = rs.getInt(1);
        }
      }
    }
    if (event.seq() != last + 1) {
      orderViolations.incrementAndGet();
    }
    String sql =
        last == 0
            ? "INSERT INTO consumer_orders (last_seq, last_kind, consumer_id, order_id) VALUES (?, ?, ?, ?)"
            : "UPDATE consumer_orders SET last_seq = ?, last_kind = ?, consumer_id = ? WHERE order_id = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setInt(1, Math.max(last, event.seq()));
      ps.setString(2, event.kind().name());
      ps.setString(3, event.consumerId());
      ps.setString(4, event.orderId());
      ps.executeUpdate();
    }
  }

  /** Orders whose last event seen here is final (approved or rejected). */
  public long ordersFinished() {
    return runtime.inTransaction(
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT COUNT(*) FROM consumer_orders WHERE last_kind IN ('"
                          + OrderEventKind.ORDER_APPROVED
                          + "', '"
                          + OrderEventKind.ORDER_REJECTED
                          + "')")) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }

  /** Events that arrived out of sequence for their order (must stay 0). */
  public long orderViolations() {
    return orderViolations.get();
  }

  public List<Long> eventLagMillis() {
    return List.copyOf(eventLagMillis);
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    events.close();
    server.close();
  }

  /** Runs the Consumer service in its own process. */
  public static void main(String[] args) throws InterruptedException {
    try (ServiceRuntime runtime = ServiceRuntime.start("consumer");
        ConsumerService service = start(runtime, FtgoConfig.port("consumer", 8081))) {
      System.out.println("consumer service: REST on port " + service.port());
      new java.util.concurrent.CountDownLatch(1).await();
    }
  }
}
