package dev.parley.examples.ftgo.accounting;

import static dev.parley.examples.ftgo.common.Contracts.AUTHORIZE_CARD;

import dev.parley.error.Code;
import dev.parley.error.Status;
import dev.parley.examples.ftgo.common.Contracts.Authorization;
import dev.parley.examples.ftgo.common.Contracts.AuthorizeCard;
import dev.parley.examples.ftgo.common.Contracts.OrderEvent;
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

/**
 * The Accounting service: authorizes cards over gRPC (idempotent per order), then captures the
 * authorization when the order is approved or voids it when the order is rejected — the saga's
 * compensation — from the order events (group {@code accounting}, through the inbox).
 */
public final class AccountingService implements AutoCloseable {

  /** Cards containing this are declined (a test card). */
  public static final String DECLINED_CARD = "4000-0000-0000-0002";

  private final ServiceRuntime runtime;
  private final RpcServer server;
  private final Subscription events;

  private AccountingService(ServiceRuntime runtime, int port) {
    this.runtime = runtime;
    runtime.inTransaction(AccountingService::createTables);
    this.server =
        RpcServer.builder().port(port).serve(AUTHORIZE_CARD, this::authorize).build().start();
    this.events = runtime.subscribeOrderEvents("accounting", (event, ctx, c) -> onEvent(event, c));
  }

  public static AccountingService start(ServiceRuntime runtime, int port) {
    return new AccountingService(runtime, port);
  }

  private static Void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS authorizations (order_id VARCHAR(40) PRIMARY KEY,"
              + " authorization_id VARCHAR(40), consumer_id VARCHAR(40), total_cents BIGINT,"
              + " state VARCHAR(20))");
    }
    return null;
  }

  private Authorization authorize(AuthorizeCard request, CallContext ctx) {
    if (request.card().contains(DECLINED_CARD)) {
      throw Status.of(Code.FAILED_PRECONDITION, "accounting.card_declined", "the card was declined")
          .asException();
    }
    return runtime.inTransaction(
        c -> {
          try (PreparedStatement find =
              c.prepareStatement(
                  "SELECT authorization_id FROM authorizations WHERE order_id = ?")) {
            find.setString(1, request.orderId());
            try (ResultSet rs = find.executeQuery()) {
              if (rs.next()) {
                return new Authorization(rs.getString(1), request.orderId()); // a retried call
              }
            }
          }
          String id = "auth-" + request.orderId();
          try (PreparedStatement insert =
              c.prepareStatement("INSERT INTO authorizations VALUES (?, ?, ?, ?, 'AUTHORIZED')")) {
            insert.setString(1, request.orderId());
            insert.setString(2, id);
            insert.setString(3, request.consumerId());
            insert.setLong(4, request.totalCents());
            insert.executeUpdate();
          }
          return new Authorization(id, request.orderId());
        });
  }

  private void onEvent(OrderEvent event, Connection c) throws SQLException {
    String state =
        switch (event.kind()) {
          case ORDER_APPROVED -> "CAPTURED";
          case ORDER_REJECTED -> "VOIDED";
          default -> null;
        };
    if (state == null) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE authorizations SET state = ? WHERE order_id = ? AND state = 'AUTHORIZED'")) {
      ps.setString(1, state);
      ps.setString(2, event.orderId());
      ps.executeUpdate();
    }
  }

  /** Authorizations per state, e.g. {@code CAPTURED=12}. */
  public java.util.Map<String, Long> authorizations() {
    return runtime.countByState("authorizations");
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    events.close();
    server.close();
  }

  /** Runs the Accounting service in its own process. */
  public static void main(String[] args) throws InterruptedException {
    try (ServiceRuntime runtime = ServiceRuntime.start("accounting");
        AccountingService service = start(runtime, FtgoConfig.port("accounting", 8082))) {
      System.out.println("accounting service: gRPC on port " + service.port());
      new java.util.concurrent.CountDownLatch(1).await();
    }
  }
}
