package dev.parley.rpc.contract;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import dev.parley.error.Code;
import dev.parley.operation.Operation;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenAPI 3.1 document of operations' REST bindings, generated from the same {@link Operation}
 * model {@link dev.parley.rpc.RpcServer} serves: one path item per route (the declared method and
 * template, else {@code POST /{service}/{name}}); path parameters from the template and, for {@code
 * GET} and {@code DELETE}, the input's other fields as query parameters; request and response
 * bodies for every content type the codecs read and write the types in; the deadline ({@code
 * parley-timeout-ms}) and idempotency key headers; and the errors Parley answers itself, as {@code
 * application/problem+json} with their {@code code} and {@code errorCode}.
 *
 * <pre>{@code
 * String json = OpenApi.builder("kitchen", "1.0").operations(server.operations()).toJson();
 * }</pre>
 *
 * The output is deterministic (operations in the given order, schemas as first met), so a committed
 * copy diffs cleanly in review.
 */
public final class OpenApi {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final Pattern VARIABLE = Pattern.compile("\\{([^}/]+)}");
  private static final String PROBLEM_REF = "#/components/schemas/Problem";

  /** The statuses every operation may answer (Parley answers them itself). */
  private static final Map<String, String> COMMON_ERRORS = new LinkedHashMap<>();

  static {
    COMMON_ERRORS.put("400", "Bad input: the body or parameters do not fit (INVALID_ARGUMENT)");
    COMMON_ERRORS.put("413", "The body is larger than the server takes (RESOURCE_EXHAUSTED)");
    COMMON_ERRORS.put("415", "No codec reads the Content-Type");
    COMMON_ERRORS.put("429", "Rate limit, bulkhead or call limit reached (RESOURCE_EXHAUSTED)");
    COMMON_ERRORS.put("500", "The handler failed (INTERNAL parley.handler.failed)");
    COMMON_ERRORS.put("504", "The deadline passed (DEADLINE_EXCEEDED)");
  }

  private final String title;
  private final String version;
  private final List<Operation<?, ?>> operations = new ArrayList<>();
  private Codecs codecs;
  private boolean authenticated;

  private OpenApi(String title, String version) {
    this.title = Objects.requireNonNull(title, "title");
    this.version = Objects.requireNonNull(version, "version");
  }

  /** A document titled {@code title} at API version {@code version}. */
  public static OpenApi builder(String title, String version) {
    return new OpenApi(title, version);
  }

  /** Describes these operations, in this order. */
  public OpenApi operations(List<? extends Operation<?, ?>> ops) {
    operations.addAll(ops);
    return this;
  }

  /** The codecs bodies are read and written with; those on the class path by default. */
  public OpenApi codecs(Codecs codecs) {
    this.codecs = Objects.requireNonNull(codecs, "codecs");
    return this;
  }

  /**
   * Whether callers must authenticate (a bearer JWT or a client certificate): adds the security
   * schemes and the 401 and 403 answers.
   */
  public OpenApi authenticated(boolean authenticated) {
    this.authenticated = authenticated;
    return this;
  }

  /** The document as a JSON tree. */
  public ObjectNode toTree() {
    Codecs c = codecs != null ? codecs : Codecs.discover();
    JsonSchemas schemas = new JsonSchemas("#/components/schemas/");
    ObjectNode doc = JSON.objectNode();
    doc.put("openapi", "3.1.0");
    doc.putObject("info").put("title", title).put("version", version);
    ObjectNode paths = doc.putObject("paths");
    Set<String> tags = new LinkedHashSet<>();
    for (Operation<?, ?> op : operations) {
      tags.add(op.service());
      ObjectNode item =
          paths.has(op.httpPath())
              ? (ObjectNode) paths.get(op.httpPath())
              : paths.putObject(op.httpPath());
      item.set(op.httpMethod().toLowerCase(java.util.Locale.ROOT), operation(op, c, schemas));
    }
    ArrayNode tagList = doc.putArray("tags");
    tags.forEach(t -> tagList.addObject().put("name", t));
    ObjectNode components = doc.putObject("components");
    ObjectNode componentSchemas = components.putObject("schemas");
    schemas.named().forEach(componentSchemas::set);
    componentSchemas.set("Problem", problemSchema());
    if (authenticated) {
      ObjectNode schemes = components.putObject("securitySchemes");
      schemes
          .putObject("bearer")
          .put("type", "http")
          .put("scheme", "bearer")
          .put("bearerFormat", "JWT");
      schemes.putObject("clientCertificate").put("type", "mutualTLS");
      ArrayNode security = doc.putArray("security");
      security.addObject().putArray("bearer");
      security.addObject().putArray("clientCertificate");
    }
    return doc;
  }

  /** The document as indented JSON. */
  public String toJson() {
    return JsonSchemas.indented(toTree());
  }

  private ObjectNode operation(Operation<?, ?> op, Codecs c, JsonSchemas schemas) {
    ObjectNode o = JSON.objectNode();
    o.put("operationId", op.service() + "." + op.name());
    o.putArray("tags").add(op.service());
    o.put(
        "summary",
        op.name()
            + " ("
            + (op.isIdempotent() ? "idempotent" : "not idempotent")
            + "; also gRPC "
            + op.service()
            + "/"
            + op.name()
            + " and messaging channel "
            + op.commandChannel().name()
            + ")");
    ArrayNode parameters = o.putArray("parameters");
    Set<String> inPath = new LinkedHashSet<>();
    Matcher m = VARIABLE.matcher(op.httpPath());
    Map<String, RecordComponent> fields = new LinkedHashMap<>();
    if (op.inputType().isRecord()) {
      for (RecordComponent rc : op.inputType().getRecordComponents()) {
        fields.put(rc.getName(), rc);
      }
    }
    while (m.find()) {
      String name = m.group(1);
      inPath.add(name);
      RecordComponent rc = fields.get(name);
      parameters
          .addObject()
          .put("name", name)
          .put("in", "path")
          .put("required", true)
          .set(
              "schema",
              rc == null
                  ? JSON.objectNode().put("type", "string")
                  : schemas.schemaOf(rc.getGenericType()));
    }
    boolean hasBody = !op.httpMethod().equals("GET") && !op.httpMethod().equals("DELETE");
    if (!hasBody) {
      for (RecordComponent rc : fields.values()) {
        if (!inPath.contains(rc.getName())) {
          parameters
              .addObject()
              .put("name", rc.getName())
              .put("in", "query")
              .put("required", rc.getType().isPrimitive())
              .set("schema", schemas.schemaOf(rc.getGenericType()));
        }
      }
    }
    parameters
        .addObject()
        .put("name", "parley-timeout-ms")
        .put("in", "header")
        .put("required", false)
        .put("description", "The caller's deadline, in milliseconds from now")
        .set("schema", JSON.objectNode().put("type", "integer").put("minimum", 1));
    if (!op.isIdempotent()) {
      parameters
          .addObject()
          .put("name", "Idempotency-Key")
          .put("in", "header")
          .put("required", false)
          .put("description", "Makes a retry of this non-idempotent call safe")
          .set("schema", JSON.objectNode().put("type", "string"));
    }
    if (hasBody) {
      ObjectNode content = o.putObject("requestBody").put("required", true).putObject("content");
      for (String type : contentTypes(c, op.inputType())) {
        content.putObject(type).set("schema", schemas.schemaOf(op.inputType()));
      }
    }
    ObjectNode responses = o.putObject("responses");
    ObjectNode ok = responses.putObject("200").put("description", "The output");
    ObjectNode okContent = ok.putObject("content");
    for (String type : contentTypes(c, op.outputType())) {
      okContent.putObject(type).set("schema", schemas.schemaOf(op.outputType()));
    }
    Map<String, String> errors = new LinkedHashMap<>(COMMON_ERRORS);
    if (authenticated) {
      errors.put("401", "No valid credentials (UNAUTHENTICATED)");
      errors.put("403", "This caller may not call this operation (PERMISSION_DENIED)");
    }
    errors.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e ->
                responses
                    .putObject(e.getKey())
                    .put("description", e.getValue())
                    .putObject("content")
                    .putObject("application/problem+json")
                    .set("schema", JSON.objectNode().put("$ref", PROBLEM_REF)));
    if (!op.errorCodes().isEmpty()) {
      ArrayNode declared = o.putArray("x-parley-error-codes");
      op.errorCodes().forEach(declared::add);
    }
    responses
        .putObject("default")
        .put(
            "description",
            op.errorCodes().isEmpty()
                ? "Another failure the handler chose (its status and error code)"
                : "A failure the handler chose; its errorCode one of "
                    + String.join(", ", op.errorCodes()))
        .putObject("content")
        .putObject("application/problem+json")
        .set("schema", JSON.objectNode().put("$ref", PROBLEM_REF));
    return o;
  }

  /** Content types whose codec handles {@code type}, the default first. */
  private static List<String> contentTypes(Codecs codecs, Class<?> type) {
    List<String> types = new ArrayList<>();
    try {
      types.add(codecs.encoderFor(type).contentType());
    } catch (CodecException e) {
      // no default codec for it
    }
    for (String contentType : codecs.contentTypes()) {
      if (types.contains(contentType)) {
        continue;
      }
      try {
        Codec codec = codecs.decoderFor(contentType, type);
        if (codec.supports(type)) {
          types.add(contentType);
        }
      } catch (CodecException e) {
        // not this one
      }
    }
    return types;
  }

  private static ObjectNode problemSchema() {
    ObjectNode p = JSON.objectNode();
    p.put("type", "object");
    p.put("description", "RFC 9457 problem details, with Parley's status code and error code");
    ObjectNode props = p.putObject("properties");
    props.putObject("type").put("type", "string").put("format", "uri");
    props.putObject("title").put("type", "string");
    props.putObject("status").put("type", "integer");
    ArrayNode codes = props.putObject("code").put("type", "string").putArray("enum");
    for (Code code : Code.values()) {
      if (code != Code.OK) {
        codes.add(code.name());
      }
    }
    props
        .putObject("errorCode")
        .put("type", "string")
        .put("description", "Stable, machine-readable: e.g. parley.rest.bad_parameters");
    props.putObject("detail").put("type", "string");
    props
        .putObject("details")
        .put("type", "object")
        .set("additionalProperties", JSON.objectNode().put("type", "string"));
    p.putArray("required").add("code").add("errorCode");
    return p;
  }
}
