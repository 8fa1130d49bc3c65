package dev.parley.rpc.contract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code parley check}: the compatibility gate of the model contract, comparing a committed
 * baseline of the generated documents ({@link OpenApi}, {@link AsyncApi}) with the current ones. It
 * reports, per mode:
 *
 * <ul>
 *   <li>always: an operation, channel or message removed; a route (method or path) changed; a
 *       declared error code removed; a field removed from a body or message, or its type changed;
 *       an enum value removed;
 *   <li>{@link Mode#BACKWARD} (new servers, old clients): a new required field in a request or
 *       message;
 *   <li>{@link Mode#FORWARD} (old servers, new clients): a new required field in a response or
 *       message;
 *   <li>{@link Mode#FULL}: both.
 * </ul>
 *
 * New operations, channels, optional fields and enum values pass. Protobuf and Avro schemas have
 * their own checks ({@code ProtobufCompatibility}, {@code AvroCompatibility}).
 *
 * <pre>
 * java -cp CLASSPATH dev.parley.rpc.contract.ContractCheck [--mode backward|forward|full] BASELINE CURRENT
 * </pre>
 *
 * BASELINE and CURRENT are files or directories; in directories every {@code *openapi.json} and
 * {@code *asyncapi.json} of the baseline is compared with the file of the same name. Exit code 0
 * compatible, 1 not, 2 bad use.
 */
public final class ContractCheck {

  /** Which side must keep working. */
  public enum Mode {
    BACKWARD,
    FORWARD,
    FULL
  }

  private enum Role {
    REQUEST,
    RESPONSE,
    MESSAGE
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private ContractCheck() {}

  /** The incompatibilities between two OpenAPI documents Parley generated; empty when none. */
  public static List<String> openApi(JsonNode older, JsonNode newer, Mode mode) {
    List<String> problems = new ArrayList<>();
    Map<String, JsonNode[]> oldOps = operations(older);
    Map<String, JsonNode[]> newOps = operations(newer);
    for (Map.Entry<String, JsonNode[]> e : oldOps.entrySet()) {
      String id = e.getKey();
      JsonNode[] was = e.getValue();
      JsonNode[] now = newOps.get(id);
      if (now == null) {
        problems.add(id + ": operation removed");
        continue;
      }
      if (!was[1].asText().equals(now[1].asText())) {
        problems.add(id + ": route changed from " + was[1].asText() + " to " + now[1].asText());
      }
      Set<String> codes = new HashSet<>();
      now[0].path("x-parley-error-codes").forEach(c -> codes.add(c.asText()));
      for (JsonNode code : was[0].path("x-parley-error-codes")) {
        if (!codes.contains(code.asText())) {
          problems.add(id + ": error code " + code.asText() + " removed");
        }
      }
      Schemas schemas = new Schemas(older, newer, mode, problems);
      schemas.compare(
          id + " request",
          was[0].at("/requestBody/content/application~1json/schema"),
          now[0].at("/requestBody/content/application~1json/schema"),
          Role.REQUEST);
      schemas.compare(
          id + " response",
          was[0].at("/responses/200/content/application~1json/schema"),
          now[0].at("/responses/200/content/application~1json/schema"),
          Role.RESPONSE);
      schemas.parameters(id, was[0].path("parameters"), now[0].path("parameters"));
    }
    return problems;
  }

  /** The incompatibilities between two AsyncAPI documents Parley generated; empty when none. */
  public static List<String> asyncApi(JsonNode older, JsonNode newer, Mode mode) {
    List<String> problems = new ArrayList<>();
    JsonNode newChannels = newer.path("channels");
    for (Iterator<Map.Entry<String, JsonNode>> it = older.path("channels").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode now = newChannels.get(e.getKey());
      if (now == null) {
        problems.add("channel " + e.getKey() + ": removed");
        continue;
      }
      if (!e.getValue().path("address").equals(now.path("address"))) {
        problems.add("channel " + e.getKey() + ": address changed");
      }
      Schemas schemas = new Schemas(older, newer, mode, problems);
      for (Iterator<Map.Entry<String, JsonNode>> m = e.getValue().path("messages").fields();
          m.hasNext(); ) {
        Map.Entry<String, JsonNode> message = m.next();
        JsonNode oldMessage = resolve(older, message.getValue());
        JsonNode newRef = now.path("messages").get(message.getKey());
        if (newRef == null) {
          // a message may change its name (a new payload type) yet keep its fields: compare with
          // the channel's only message, if it has one
          if (now.path("messages").size() == 1) {
            newRef = now.path("messages").elements().next();
          } else {
            problems.add("channel " + e.getKey() + ": message " + message.getKey() + " removed");
            continue;
          }
        }
        JsonNode newMessage = resolve(newer, newRef);
        schemas.compare(
            "channel " + e.getKey() + " message",
            oldMessage.path("payload"),
            newMessage.path("payload"),
            Role.MESSAGE);
      }
    }
    JsonNode newOperations = newer.path("operations");
    for (Iterator<String> it = older.path("operations").fieldNames(); it.hasNext(); ) {
      String id = it.next();
      if (!newOperations.has(id)) {
        problems.add("operation " + id + ": removed");
      }
    }
    return problems;
  }

  /** operationId → {operation, "METHOD path"}. */
  private static Map<String, JsonNode[]> operations(JsonNode doc) {
    Map<String, JsonNode[]> ops = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> p = doc.path("paths").fields(); p.hasNext(); ) {
      Map.Entry<String, JsonNode> path = p.next();
      for (Iterator<Map.Entry<String, JsonNode>> m = path.getValue().fields(); m.hasNext(); ) {
        Map.Entry<String, JsonNode> method = m.next();
        String id = method.getValue().path("operationId").asText(null);
        if (id != null) {
          ops.put(
              id,
              new JsonNode[] {
                method.getValue(),
                JSON.getNodeFactory()
                    .textNode(method.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey())
              });
        }
      }
    }
    return ops;
  }

  private static JsonNode resolve(JsonNode doc, JsonNode node) {
    Set<String> seen = new HashSet<>();
    JsonNode n = node;
    while (n != null && n.has("$ref") && seen.add(n.get("$ref").asText())) {
      String ref = n.get("$ref").asText();
      n = ref.startsWith("#") ? doc.at(ref.substring(1)) : null;
    }
    return n == null ? JSON.missingNode() : n;
  }

  /** Compares schemas of one document pair, following {@code $ref}s. */
  private static final class Schemas {
    private final JsonNode older;
    private final JsonNode newer;
    private final Mode mode;
    private final List<String> problems;
    private final Set<String> visiting = new HashSet<>();

    Schemas(JsonNode older, JsonNode newer, Mode mode, List<String> problems) {
      this.older = older;
      this.newer = newer;
      this.mode = mode;
      this.problems = problems;
    }

    void compare(String where, JsonNode oldSchema, JsonNode newSchema, Role role) {
      if (oldSchema.isMissingNode()) {
        return;
      }
      if (newSchema.isMissingNode()) {
        problems.add(where + ": no longer has a body");
        return;
      }
      String key = where + "|" + oldSchema + "|" + newSchema;
      if (!visiting.add(key)) {
        return;
      }
      JsonNode was = nonNull(resolve(older, oldSchema));
      JsonNode now = nonNull(resolve(newer, newSchema));
      String oldType = was.path("type").asText("");
      String newType = now.path("type").asText("");
      if (!oldType.equals(newType) || !was.path("format").equals(now.path("format"))) {
        problems.add(where + ": type changed from " + describe(was) + " to " + describe(now));
        return;
      }
      if (was.has("enum")) {
        Set<String> values = new HashSet<>();
        now.path("enum").forEach(v -> values.add(v.asText()));
        for (JsonNode v : was.path("enum")) {
          if (!values.contains(v.asText())) {
            problems.add(where + ": enum value " + v.asText() + " removed");
          }
        }
      }
      if (oldType.equals("array")) {
        compare(where + "[]", was.path("items"), now.path("items"), role);
        return;
      }
      if (oldType.equals("object")) {
        Set<String> oldRequired = new HashSet<>();
        was.path("required").forEach(r -> oldRequired.add(r.asText()));
        for (Iterator<Map.Entry<String, JsonNode>> f = was.path("properties").fields();
            f.hasNext(); ) {
          Map.Entry<String, JsonNode> field = f.next();
          JsonNode current = now.path("properties").get(field.getKey());
          if (current == null) {
            problems.add(where + ": field " + field.getKey() + " removed");
          } else {
            compare(where + "." + field.getKey(), field.getValue(), current, role);
          }
        }
        for (JsonNode r : now.path("required")) {
          if (!oldRequired.contains(r.asText()) && breaksOnNewRequired(role)) {
            problems.add(where + ": new required field " + r.asText());
          }
        }
      }
    }

    void parameters(String id, JsonNode was, JsonNode now) {
      Map<String, JsonNode> current = new LinkedHashMap<>();
      now.forEach(p -> current.put(p.path("in").asText() + ":" + p.path("name").asText(), p));
      Set<String> before = new HashSet<>();
      for (JsonNode p : was) {
        String key = p.path("in").asText() + ":" + p.path("name").asText();
        before.add(key);
        JsonNode n = current.get(key);
        if (n == null) {
          if (p.path("required").asBoolean()) {
            problems.add(id + ": " + key.replace(':', ' ') + " parameter removed");
          }
        } else {
          compare(
              id + " parameter " + p.path("name").asText(),
              p.path("schema"),
              n.path("schema"),
              Role.REQUEST);
        }
      }
      current.forEach(
          (key, p) -> {
            if (!before.contains(key) && p.path("required").asBoolean() && mode != Mode.FORWARD) {
              problems.add(id + ": new required " + key.replace(':', ' ') + " parameter");
            }
          });
    }

    private boolean breaksOnNewRequired(Role role) {
      return switch (role) {
        case REQUEST -> mode != Mode.FORWARD;
        case RESPONSE -> mode != Mode.BACKWARD;
        case MESSAGE -> true;
      };
    }

    /** The non-null alternative of a nullable {@code oneOf}. */
    private static JsonNode nonNull(JsonNode schema) {
      if (schema.has("oneOf")) {
        for (JsonNode alternative : schema.get("oneOf")) {
          if (!"null".equals(alternative.path("type").asText())) {
            return alternative;
          }
        }
      }
      return schema;
    }

    private static String describe(JsonNode schema) {
      String type = schema.path("type").asText("any");
      return schema.has("format") ? type + "/" + schema.get("format").asText() : type;
    }
  }

  /** {@code ContractCheck [--mode M] BASELINE CURRENT}; see the class description. */
  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** The command line without exiting: 0 compatible, 1 not, 2 bad use. */
  public static int run(String[] args, PrintStream out) {
    Mode mode = Mode.BACKWARD;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--mode") && i + 1 < args.length) {
        try {
          mode = Mode.valueOf(args[++i].toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          out.println("--mode: " + args[i] + " (expected: backward, forward or full)");
          return 2;
        }
      } else {
        files.add(args[i]);
      }
    }
    if (files.size() != 2) {
      out.println("usage: ContractCheck [--mode backward|forward|full] BASELINE CURRENT");
      return 2;
    }
    Path baseline = Path.of(files.get(0));
    Path current = Path.of(files.get(1));
    List<String> problems = new ArrayList<>();
    try {
      List<Path[]> pairs = new ArrayList<>();
      if (Files.isDirectory(baseline)) {
        try (Stream<Path> list = Files.list(baseline)) {
          for (Path p : list.sorted().toList()) {
            String name = p.getFileName().toString();
            if (name.endsWith("openapi.json") || name.endsWith("asyncapi.json")) {
              pairs.add(new Path[] {p, current.resolve(name)});
            }
          }
        }
      } else {
        pairs.add(new Path[] {baseline, current});
      }
      if (pairs.isEmpty()) {
        out.println("no *openapi.json or *asyncapi.json in " + baseline);
        return 2;
      }
      for (Path[] pair : pairs) {
        if (!Files.isRegularFile(pair[1])) {
          problems.add(pair[1].getFileName() + ": missing (the baseline has it)");
          continue;
        }
        JsonNode was = JSON.readTree(pair[0].toFile());
        JsonNode now = JSON.readTree(pair[1].toFile());
        List<String> found =
            was.has("asyncapi") ? asyncApi(was, now, mode) : openApi(was, now, mode);
        found.forEach(p -> problems.add(pair[0].getFileName() + ": " + p));
      }
    } catch (IOException e) {
      out.println("cannot read: " + e.getMessage());
      return 2;
    }
    problems.forEach(out::println);
    out.println(
        problems.isEmpty()
            ? "compatible (" + mode.name().toLowerCase(Locale.ROOT) + ")"
            : problems.size()
                + " incompatible change(s) ("
                + mode.name().toLowerCase(Locale.ROOT)
                + ")");
    return problems.isEmpty() ? 0 : 1;
  }
}
