package dev.parley.rpc;

import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.operation.CallContext;
import dev.parley.policy.Deadline;
import java.util.Optional;

/** The {@link CallContext} of a call that came in over REST or gRPC. */
final class ServerCallContext implements CallContext {

  private final String binding;
  private final ServiceRequestContext ctx;
  private final RequestHeaders headers;
  private final Deadline deadline;

  ServerCallContext(
      String binding, ServiceRequestContext ctx, RequestHeaders headers, Deadline deadline) {
    this.binding = binding;
    this.ctx = ctx;
    this.headers = headers;
    this.deadline = deadline;
  }

  @Override
  public String binding() {
    return binding;
  }

  @Override
  public Optional<Deadline> deadline() {
    return Optional.ofNullable(deadline);
  }

  @Override
  public Optional<String> idempotencyKey() {
    return header(StatusMapping.IDEMPOTENCY_KEY_HEADER);
  }

  @Override
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name));
  }

  @Override
  public Optional<dev.parley.security.Identity> identity() {
    return ServerGate.identityOf(ctx);
  }

  @Override
  public boolean isCancelled() {
    return ctx.isCancelled() || ctx.whenRequestCancelled().isDone();
  }

  @Override
  public void onCancel(Runnable action) {
    ctx.whenRequestCancelled().thenRun(action);
  }

  /**
   * The deadline a caller sent: {@code parley-timeout-ms} (REST) or {@code grpc-timeout} (gRPC),
   * measured from when the request arrived; {@code null} if none.
   */
  static Deadline deadlineOf(RequestHeaders headers) {
    return deadlineOf(headers.get(StatusMapping.TIMEOUT_HEADER), headers.get("grpc-timeout"));
  }

  /**
   * The deadline from a {@code parley-timeout-ms} and a {@code grpc-timeout} value, either null.
   */
  static Deadline deadlineOf(String millis, String grpc) {
    if (millis != null && millis.matches("\\d{1,12}")) {
      return Deadline.after(java.time.Duration.ofMillis(Long.parseLong(millis)));
    }
    if (grpc != null && grpc.matches("\\d{1,8}[HMSmun]")) {
      long value = Long.parseLong(grpc.substring(0, grpc.length() - 1));
      // As a Duration, not in nanoseconds: 99999999H, the largest legal value, overflows a long of
      // nanoseconds (and would expire at once); Deadline.after saturates what is too far away.
      java.time.Duration timeout =
          switch (grpc.charAt(grpc.length() - 1)) {
            case 'H' -> java.time.Duration.ofHours(value);
            case 'M' -> java.time.Duration.ofMinutes(value);
            case 'S' -> java.time.Duration.ofSeconds(value);
            case 'm' -> java.time.Duration.ofMillis(value);
            case 'u' -> java.time.Duration.ofNanos(value * 1_000L);
            default -> java.time.Duration.ofNanos(value);
          };
      return Deadline.after(timeout);
    }
    return null;
  }
}
