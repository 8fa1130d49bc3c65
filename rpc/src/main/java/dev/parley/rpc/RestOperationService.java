package dev.parley.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.util.TimeoutMode;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import dev.parley.error.BadInputException;
import dev.parley.error.Code;
import dev.parley.error.RejectedException;
import dev.parley.error.Status;
import dev.parley.operation.Operation;
import dev.parley.policy.Deadline;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The REST binding of one operation: decodes the input by Content-Type (or, for GET and DELETE,
 * from path and query parameters), runs the handler with the caller's deadline current — a blocking
 * one on the blocking executor, an asynchronous one on the event loop (on the blocking executor
 * when the server authenticates, as an authenticator may block) — and encodes the output by Accept.
 * Failures answer a problem JSON body.
 */
final class RestOperationService<I, O> implements HttpService {

  private static final ObjectMapper PARAMS = new ObjectMapper();

  private final Operation<I, O> operation;
  private final RpcServer.Served<I, O> served;
  private final Codecs codecs;
  private final ServerGate gate;
  private final boolean onEventLoop;

  RestOperationService(RpcServer.Served<I, O> served, Codecs codecs, ServerGate gate) {
    this.operation = served.operation();
    this.served = served;
    this.codecs = codecs;
    this.gate = gate;
    this.onEventLoop = !served.blocking() && !gate.authenticates();
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    Deadline deadline = ServerCallContext.deadlineOf(req.headers());
    if (deadline != null) {
      if (deadline.isExpired()) {
        return StatusMapping.problem(
            Status.of(
                Code.DEADLINE_EXCEEDED, "parley.deadline_exceeded", "deadline passed on arrival"));
      }
      ctx.setRequestTimeout(TimeoutMode.SET_FROM_NOW, deadline.remaining());
    }
    Optional<RejectedException> refused = gate.admit();
    if (refused.isPresent()) {
      return StatusMapping.problem(refused.get().status());
    }
    java.util.concurrent.CompletableFuture<AggregatedHttpRequest> aggregated = req.aggregate();
    java.util.concurrent.CompletableFuture<HttpResponse> response =
        onEventLoop
            ? aggregated.thenCompose(agg -> handle(ctx, agg, deadline))
            : aggregated.thenComposeAsync(
                agg -> handle(ctx, agg, deadline), ctx.blockingTaskExecutor());
    return HttpResponse.of(response.whenComplete((r, e) -> gate.release()));
  }

  private java.util.concurrent.CompletableFuture<HttpResponse> handle(
      ServiceRequestContext ctx, AggregatedHttpRequest req, Deadline deadline) {
    java.util.concurrent.CompletionStage<O> output;
    Codec writer;
    try {
      gate.authorize(operation.service(), operation.name(), ctx, req.headers());
      if (deadline != null) {
        deadline.check();
      }
      writer = negotiate(req);
      I input = decode(ctx, req);
      ServerCallContext call = new ServerCallContext("rest", ctx, req.headers(), deadline);
      if (deadline == null) {
        output = served.invoke(input, call);
      } else {
        try (Deadline.Scope scope = deadline.attach()) {
          output = served.invoke(input, call);
        }
      }
    } catch (Throwable t) {
      return java.util.concurrent.CompletableFuture.completedFuture(
          StatusMapping.problem(StatusMapping.statusOf(t)));
    }
    return output
        .handle(
            (out, failure) -> {
              if (failure != null) {
                return StatusMapping.problem(StatusMapping.statusOf(failure));
              }
              try {
                return HttpResponse.of(
                    HttpStatus.OK,
                    MediaType.parse(writer.contentType()),
                    HttpData.wrap(writer.encode(out)));
              } catch (Throwable t) {
                return StatusMapping.problem(StatusMapping.statusOf(t));
              }
            })
        .toCompletableFuture();
  }

  private I decode(ServiceRequestContext ctx, AggregatedHttpRequest req) {
    Class<I> type = operation.inputType();
    String method = req.method().name();
    if (method.equals("GET") || method.equals("DELETE")) {
      Map<String, Object> fields = new LinkedHashMap<>();
      ctx.queryParams().forEach((k, v) -> fields.put(k, v));
      fields.putAll(ctx.pathParams());
      try {
        return PARAMS.convertValue(fields, type);
      } catch (IllegalArgumentException e) {
        throw new BadInputException(
            "parley.rest.bad_parameters",
            "parameters do not fit " + type.getSimpleName() + ": " + firstLine(e.getMessage()));
      }
    }
    MediaType contentType = req.contentType();
    Codec reader = codecs.decoderFor(contentType == null ? null : contentType.toString(), type);
    byte[] body = req.content().array();
    if (!ctx.pathParams().isEmpty() && reader.contentType().equals("application/json")) {
      body = mergePathParams(body, ctx.pathParams());
    }
    return reader.decode(body, type);
  }

  /** Fills the input's fields named in the path template from the path. */
  private static byte[] mergePathParams(byte[] body, Map<String, String> params) {
    try {
      JsonNode node = body.length == 0 ? PARAMS.createObjectNode() : PARAMS.readTree(body);
      if (node instanceof ObjectNode object) {
        params.forEach(object::put);
        return PARAMS.writeValueAsBytes(object);
      }
      return body;
    } catch (IOException e) {
      throw new CodecException(CodecException.MALFORMED, "malformed JSON body");
    }
  }

  /** The codec for the response: the first acceptable one, else the output type's default. */
  private Codec negotiate(AggregatedHttpRequest req) {
    Class<O> type = operation.outputType();
    String accept = req.headers().get("accept");
    if (accept == null || accept.isBlank()) {
      return codecs.encoderFor(type);
    }
    for (String range : accept.split(",")) {
      int parameters = range.indexOf(';');
      String mediaType = (parameters < 0 ? range : range.substring(0, parameters)).trim();
      if (mediaType.isEmpty()) {
        continue; // "Accept: ;" and the like name no type
      }
      if (mediaType.equals("*/*") || mediaType.equals("application/*")) {
        return codecs.encoderFor(type);
      }
      try {
        return codecs.decoderFor(mediaType, type);
      } catch (CodecException e) {
        // not this one
      }
    }
    throw new BadInputException(
        "parley.rest.not_acceptable",
        "accept: " + sanitize(accept) + " (no codec writes " + type.getSimpleName() + " as that)");
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  private static String sanitize(String untrusted) {
    String s = untrusted.length() > 100 ? untrusted.substring(0, 100) + "..." : untrusted;
    return s.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
