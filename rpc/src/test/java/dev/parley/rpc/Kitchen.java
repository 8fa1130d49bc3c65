package dev.parley.rpc;

import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.Status;
import dev.parley.operation.CallContext;
import dev.parley.operation.Operation;
import java.util.concurrent.atomic.AtomicInteger;

/** The test service: one handler per operation, whatever the binding. */
final class Kitchen {

  record CreateTicket(String orderId, int items) {}

  record GetTicket(String id) {}

  record Ticket(String id, String orderId, int items, String servedOver) {}

  static final Operation<CreateTicket, Ticket> CREATE_TICKET =
      Operation.of("kitchen", "CreateTicket", CreateTicket.class, Ticket.class);

  static final Operation<GetTicket, Ticket> GET_TICKET =
      Operation.of("kitchen", "GetTicket", GetTicket.class, Ticket.class)
          .withIdempotent(true)
          .withHttp("GET", "/tickets/{id}");

  final AtomicInteger calls = new AtomicInteger();

  Ticket create(CreateTicket request, CallContext context) {
    calls.incrementAndGet();
    if (request.orderId().equals("missing")) {
      throw Status.of(Code.NOT_FOUND, "kitchen.order_not_found", "no order 'missing'")
          .asException();
    }
    if (request.orderId().equals("crash")) {
      throw new IllegalStateException("the stove is on fire");
    }
    if (request.items() < 1) {
      throw new BadInputException(
          "kitchen.bad_items", "items: " + request.items() + " (expected: > 0)");
    }
    return new Ticket(
        "t-" + request.orderId(), request.orderId(), request.items(), context.binding());
  }

  Ticket get(GetTicket request, CallContext context) {
    calls.incrementAndGet();
    if (request.id().equals("t-missing")) {
      throw Status.of(Code.NOT_FOUND, "kitchen.ticket_not_found", "no ticket").asException();
    }
    return new Ticket(request.id(), request.id().substring(2), 1, context.binding());
  }
}
