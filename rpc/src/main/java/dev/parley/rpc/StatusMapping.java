package dev.parley.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.ResponseTimeoutException;
import com.linecorp.armeria.client.UnprocessedRequestException;
import com.linecorp.armeria.client.endpoint.EmptyEndpointGroupException;
import com.linecorp.armeria.common.ClosedSessionException;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.DeadlineExceededException;
import dev.parley.error.ParleyException;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.error.TransportException;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one error model on the wire: {@link Status} ↔ HTTP status + problem JSON ↔ gRPC status +
 * trailers. Code names are gRPC's, so the gRPC mapping is by name; the HTTP status is {@link
 * Code#httpStatus()}; the stable error code travels as {@code errorCode} in the problem body and as
 * the {@code parley-error-code} trailer.
 */
final class StatusMapping {

  private static final Logger log = LoggerFactory.getLogger(StatusMapping.class);

  static final String TIMEOUT_HEADER = "parley-timeout-ms";
  static final String IDEMPOTENCY_KEY_HEADER = "idempotency-key";
  static final MediaType PROBLEM_JSON = MediaType.parse("application/problem+json");

  static final Metadata.Key<String> ERROR_CODE_KEY =
      Metadata.Key.of("parley-error-code", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RETRY_AFTER_KEY =
      Metadata.Key.of("parley-retry-after-ms", Metadata.ASCII_STRING_MARSHALLER);

  private static final ObjectMapper JSON = new ObjectMapper();

  private StatusMapping() {}

  /** What a server answers for a handler's failure. Unexpected exceptions do not leak details. */
  static Status statusOf(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof ParleyException p) {
      return p.status();
    }
    log.warn("handler failed", dev.parley.transport.spi.Redaction.throwable(cause));
    return Status.of(Code.INTERNAL, "parley.handler.failed", "the handler failed");
  }

  // ---- HTTP ----

  /** An {@code application/problem+json} response (RFC 9457) carrying the status. */
  static HttpResponse problem(Status status) {
    return problem(HttpStatus.valueOf(status.code().httpStatus()), status);
  }

  /**
   * A problem response with an HTTP status of its own (405, 413, 415: statuses the code set has no
   * name for), still carrying the status's code and error code.
   */
  static HttpResponse problem(HttpStatus httpStatus, Status status) {
    return problemResponse(httpStatus, status).toHttpResponse();
  }

  /** The same response, already whole (what Armeria's error handler hands back). */
  static com.linecorp.armeria.common.AggregatedHttpResponse problemResponse(
      HttpStatus httpStatus, Status status) {
    ObjectNode body = JSON.createObjectNode();
    body.put("type", "https://parley.dev/errors/" + status.errorCode());
    body.put("title", status.code().name());
    body.put("status", httpStatus.code());
    body.put("code", status.code().name());
    body.put("errorCode", status.errorCode());
    body.put("detail", status.message());
    if (!status.details().isEmpty()) {
      ObjectNode details = body.putObject("details");
      status.details().forEach(details::put);
    }
    com.linecorp.armeria.common.ResponseHeadersBuilder headers =
        ResponseHeaders.builder(httpStatus).contentType(PROBLEM_JSON);
    if (status.code() == Code.UNAUTHENTICATED) {
      headers.set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"parley\"");
    }
    RejectedException.retryAfterOf(status)
        .ifPresent(
            d ->
                headers.set(
                    HttpHeaderNames.RETRY_AFTER,
                    Long.toString(Math.max(1, (d.toMillis() + 999) / 1000))));
    return com.linecorp.armeria.common.AggregatedHttpResponse.of(
        headers.build(), com.linecorp.armeria.common.HttpData.wrap(bytes(body)));
  }

  /** The status an HTTP error response says, from its problem body or else its status code. */
  static Status fromHttp(int httpStatus, String contentType, byte[] body, String retryAfter) {
    Map<String, String> details = new HashMap<>();
    if (contentType != null && contentType.startsWith("application/problem+json")) {
      try {
        JsonNode node = JSON.readTree(body);
        Code code = Code.parse(node.path("code").asText(null));
        if (code == Code.UNKNOWN) {
          code = fromHttpStatus(httpStatus);
        }
        node.path("details")
            .fields()
            .forEachRemaining(e -> details.put(e.getKey(), e.getValue().asText()));
        return new Status(
            code,
            node.path("errorCode").asText("http." + httpStatus),
            node.path("detail").asText(""),
            details);
      } catch (IOException | RuntimeException e) {
        // not a problem body after all: fall through to the status code
      }
    }
    if (retryAfter != null && retryAfter.matches("\\d{1,9}")) {
      details.put(
          RejectedException.RETRY_AFTER_MILLIS, Long.toString(Long.parseLong(retryAfter) * 1000));
    }
    return new Status(
        fromHttpStatus(httpStatus), "http." + httpStatus, "HTTP " + httpStatus, details);
  }

  static Code fromHttpStatus(int status) {
    return switch (status) {
      case 400, 413, 415, 406 -> Code.INVALID_ARGUMENT;
      case 401 -> Code.UNAUTHENTICATED;
      case 403 -> Code.PERMISSION_DENIED;
      case 404 -> Code.NOT_FOUND;
      case 409 -> Code.ABORTED;
      case 429 -> Code.RESOURCE_EXHAUSTED;
      case 499 -> Code.CANCELLED;
      case 501 -> Code.UNIMPLEMENTED;
      case 502, 503 -> Code.UNAVAILABLE;
      case 504, 408 -> Code.DEADLINE_EXCEEDED;
      default -> status >= 500 ? Code.INTERNAL : Code.UNKNOWN;
    };
  }

  // ---- gRPC ----

  static StatusRuntimeException toGrpc(Status status) {
    Metadata trailers = new Metadata();
    trailers.put(ERROR_CODE_KEY, status.errorCode());
    RejectedException.retryAfterOf(status)
        .ifPresent(d -> trailers.put(RETRY_AFTER_KEY, Long.toString(d.toMillis())));
    return io.grpc.Status.fromCodeValue(grpcCode(status.code()).value())
        .withDescription(status.message())
        .asRuntimeException(trailers);
  }

  static io.grpc.Status.Code grpcCode(Code code) {
    return io.grpc.Status.Code.valueOf(code.name());
  }

  static Status fromGrpc(io.grpc.Status grpc, Metadata trailers) {
    Code code = Code.parse(grpc.getCode().name());
    String errorCode = trailers == null ? null : trailers.get(ERROR_CODE_KEY);
    Map<String, String> details = new HashMap<>();
    String retryAfter = trailers == null ? null : trailers.get(RETRY_AFTER_KEY);
    if (retryAfter != null) {
      details.put(RejectedException.RETRY_AFTER_MILLIS, retryAfter);
    }
    return new Status(
        code,
        errorCode != null
            ? errorCode
            : "grpc." + grpc.getCode().name().toLowerCase(java.util.Locale.ROOT),
        grpc.getDescription() == null ? "" : grpc.getDescription(),
        details);
  }

  // ---- client side: any failure → one of Parley's exceptions ----

  /**
   * Classifies a client-side failure: network faults become {@link TransportException} (retryable),
   * timeouts {@link DeadlineExceededException}, remote statuses {@link
   * dev.parley.error.RemoteException}; Parley's own exceptions pass through.
   */
  static RuntimeException clientFailure(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof ParleyException p) {
      return p;
    }
    if (cause instanceof StatusRuntimeException sre) {
      return remote(fromGrpc(sre.getStatus(), sre.getTrailers()), sre.getStatus().getCause());
    }
    if (cause instanceof io.grpc.StatusException se) {
      return remote(fromGrpc(se.getStatus(), se.getTrailers()), se.getStatus().getCause());
    }
    if (cause instanceof ResponseTimeoutException) {
      return new DeadlineExceededException("no response before the deadline");
    }
    if (cause instanceof UnprocessedRequestException u) {
      if (u.getCause() instanceof EmptyEndpointGroupException) {
        return new TransportException(
            "parley.rpc.no_endpoints", "no healthy endpoint", u.getCause());
      }
      return new TransportException(
          "parley.rpc.unprocessed", "the request was not processed: " + u.getCause(), u.getCause());
    }
    if (cause instanceof EmptyEndpointGroupException) {
      return new TransportException("parley.rpc.no_endpoints", "no healthy endpoint", cause);
    }
    if (cause instanceof ContentTooLargeException) {
      return new BadInputException(
          "parley.rpc.response_too_large", "the response is too large", cause);
    }
    if (cause instanceof ClosedSessionException
        || cause instanceof ClosedStreamException
        || cause instanceof IOException) {
      return new TransportException(
          "parley.rpc.connection_lost", "the connection was lost: " + cause, cause);
    }
    if (cause instanceof CancellationException) {
      return new DeadlineExceededException("the call was cancelled at its deadline");
    }
    return new TransportException("parley.rpc.failed", "the call failed: " + cause, cause);
  }

  /**
   * A remote status as the exception the caller sees: the same code and error code whatever the
   * binding. A status without a Parley error code from the transport layer (gRPC UNAVAILABLE,
   * DEADLINE_EXCEEDED raised by the client library) becomes a transport or deadline exception.
   */
  private static RuntimeException remote(Status status, Throwable cause) {
    boolean fromLibrary = status.errorCode().startsWith("grpc.");
    if (status.code() == Code.DEADLINE_EXCEEDED && fromLibrary) {
      return new DeadlineExceededException("no response before the deadline");
    }
    if (status.code() == Code.CANCELLED && fromLibrary) {
      return new DeadlineExceededException("the call was cancelled: " + status.message());
    }
    if ((status.code() == Code.UNAVAILABLE
            || status.code() == Code.UNKNOWN
            || status.code() == Code.INTERNAL)
        && fromLibrary
        && cause != null) {
      return clientFailure(cause) instanceof TransportException t
          ? t
          : new TransportException("parley.rpc.connection_lost", status.message(), cause);
    }
    if (status.code() == Code.UNAVAILABLE && fromLibrary) {
      return new TransportException("parley.rpc.unavailable", status.message(), cause);
    }
    return status.asException();
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
