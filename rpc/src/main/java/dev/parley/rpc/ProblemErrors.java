package dev.parley.rpc;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.SplitHttpResponse;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.RequestTimeoutException;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.error.Code;
import dev.parley.error.Status;

/**
 * Every error the HTTP stack answers by itself on a REST request — no route (404), wrong method
 * (405), a request too slow to arrive (408), too large (413), an unsupported content type (415),
 * the caller's deadline passed while the handler ran ({@code parley-timeout-ms}: 504), overload
 * (503) — as {@code application/problem+json} with {@code code} and {@code errorCode}, like the
 * operations' own failures. The text is fixed per status: never Armeria's description, which may
 * name Java classes or framework internals. gRPC requests keep gRPC's own error handling.
 */
final class ProblemErrors implements ServerErrorHandler {

  /**
   * Wraps every service: an error a service answers by itself in another form (the gRPC service's
   * {@code 405 text/plain} for a GET on an operation's path, say) becomes problem JSON too. Only
   * the headers are waited for; a success streams through untouched.
   */
  static HttpService decorate(HttpService delegate) {
    return (ctx, req) -> {
      HttpResponse response = delegate.serve(ctx, req);
      if (isGrpc(req.headers())) {
        return response;
      }
      SplitHttpResponse split = response.split();
      return HttpResponse.of(
          split
              .headers()
              .thenApply(
                  headers -> {
                    MediaType type = headers.contentType();
                    if (headers.status().isError()
                        && (type == null || !type.is(StatusMapping.PROBLEM_JSON))) {
                      split.body().abort();
                      return StatusMapping.problem(headers.status(), statusFor(headers.status()));
                    }
                    return HttpResponse.of(headers, split.body(), split.trailers());
                  }));
    };
  }

  @Override
  public HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
    if (isGrpc(ctx.request().headers())) {
      return null;
    }
    if (cause instanceof RequestTimeoutException) {
      return deadlineExceeded();
    }
    return null; // the default handler, whose status renderStatus below dresses
  }

  @Override
  public AggregatedHttpResponse renderStatus(
      ServiceRequestContext ctx,
      ServiceConfig config,
      RequestHeaders headers,
      HttpStatus status,
      String description,
      Throwable cause) {
    if (headers != null && isGrpc(headers)) {
      return null;
    }
    if (cause instanceof RequestTimeoutException) {
      return deadlineExceededResponse();
    }
    return StatusMapping.problemResponse(status, statusFor(status));
  }

  @Override
  public AggregatedHttpResponse onProtocolViolation(
      ServiceConfig config,
      RequestHeaders headers,
      HttpStatus status,
      String description,
      Throwable cause) {
    return renderStatus(null, config, headers, status, description, cause);
  }

  /** The code, error code and fixed text of an HTTP status the stack chose. */
  static Status statusFor(HttpStatus status) {
    return switch (status.code()) {
      case 400 -> Status.of(Code.INVALID_ARGUMENT, "parley.rest.bad_request", "bad request");
      case 404 -> Status.of(Code.NOT_FOUND, "parley.rest.no_route", "no operation at this path");
      case 405 ->
          Status.of(
              Code.INVALID_ARGUMENT,
              "parley.rest.method_not_allowed",
              "this path does not take that method");
      case 408 ->
          Status.of(
              Code.DEADLINE_EXCEEDED, "parley.rest.request_timeout", "the request came too slowly");
      case 413 ->
          Status.of(
              Code.INVALID_ARGUMENT, "parley.rest.too_large", "the request body is too large");
      case 415 ->
          Status.of(
              Code.INVALID_ARGUMENT,
              "parley.rest.unsupported_media_type",
              "no codec reads this content type");
      case 503 -> Status.of(Code.UNAVAILABLE, "parley.unavailable", "the server is unavailable");
      default ->
          Status.of(
              StatusMapping.fromHttpStatus(status.code()),
              "parley.rest.http_" + status.code(),
              "HTTP " + status.code());
    };
  }

  private static HttpResponse deadlineExceeded() {
    return deadlineExceededResponse().toHttpResponse();
  }

  private static AggregatedHttpResponse deadlineExceededResponse() {
    return StatusMapping.problemResponse(
        HttpStatus.GATEWAY_TIMEOUT,
        Status.of(
            Code.DEADLINE_EXCEEDED,
            "parley.deadline_exceeded",
            "the caller's deadline passed before the handler finished"));
  }

  private static boolean isGrpc(RequestHeaders headers) {
    MediaType type = headers.contentType();
    return type != null && type.subtype().startsWith("grpc");
  }
}
