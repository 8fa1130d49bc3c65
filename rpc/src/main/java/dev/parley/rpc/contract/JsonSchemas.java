package dev.parley.rpc.contract;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * JSON Schemas (draft 2020-12, what OpenAPI 3.1 and AsyncAPI 3.0 take) of the types Parley's JSON
 * codec writes: records become objects with one property per component (primitives required, as the
 * codec refuses a missing primitive), enums strings of their constant names, collections arrays,
 * {@code Map<String, V>} objects, {@code Optional<T>} a nullable {@code T}, {@code java.time} types
 * ISO-8601 strings, {@code byte[]} base64. Named types (records, enums) are collected once under
 * their simple names (the qualified name when two share one) and referred to with {@code $ref}.
 *
 * <p>Not thread-safe: one instance per document.
 */
public final class JsonSchemas {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final com.fasterxml.jackson.databind.ObjectMapper WRITER =
      new com.fasterxml.jackson.databind.ObjectMapper()
          .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);

  private final String refPrefix;
  private final Map<Class<?>, String> names = new LinkedHashMap<>();
  private final Map<String, ObjectNode> schemas = new LinkedHashMap<>();

  /**
   * @param refPrefix where the named schemas live in the document, e.g. {@code
   *     #/components/schemas/}
   */
  public JsonSchemas(String refPrefix) {
    this.refPrefix = refPrefix;
  }

  /** The named schemas collected so far, by name, in the order first met. */
  public Map<String, ObjectNode> named() {
    return schemas;
  }

  /** The schema of {@code type}: a {@code $ref} for records and enums, inline otherwise. */
  public ObjectNode schemaOf(Type type) {
    if (type instanceof ParameterizedType p) {
      Class<?> raw = (Class<?>) p.getRawType();
      Type[] args = p.getActualTypeArguments();
      if (Collection.class.isAssignableFrom(raw)) {
        return JSON.objectNode().put("type", "array").set("items", schemaOf(args[0]));
      }
      if (Map.class.isAssignableFrom(raw)) {
        return JSON.objectNode()
            .put("type", "object")
            .set("additionalProperties", schemaOf(args[1]));
      }
      if (raw == Optional.class) {
        return nullable(schemaOf(args[0]));
      }
      return schemaOf(raw);
    }
    if (type instanceof WildcardType w) {
      return schemaOf(w.getUpperBounds()[0]);
    }
    if (type instanceof GenericArrayType g) {
      return JSON.objectNode()
          .put("type", "array")
          .set("items", schemaOf(g.getGenericComponentType()));
    }
    Class<?> c = (Class<?>) type;
    ObjectNode scalar = scalar(c);
    if (scalar != null) {
      return scalar;
    }
    if (c.isArray()) {
      return JSON.objectNode().put("type", "array").set("items", schemaOf(c.getComponentType()));
    }
    if (c.isEnum() || c.isRecord()) {
      return JSON.objectNode().put("$ref", refPrefix + name(c));
    }
    if (com.google.protobuf.Message.class.isAssignableFrom(c)) {
      return JSON.objectNode().put("$ref", refPrefix + name(c));
    }
    // anything else: an object the codec writes by its bean properties
    return JSON.objectNode().put("type", "object");
  }

  private String name(Class<?> c) {
    String known = names.get(c);
    if (known != null) {
      return known;
    }
    String name = c.getSimpleName();
    if (schemas.containsKey(name)) {
      name = c.getName().replace('$', '.');
    }
    names.put(c, name);
    ObjectNode schema = JSON.objectNode();
    schemas.put(name, schema); // before the components: a type may refer to itself
    if (c.isEnum()) {
      schema.put("type", "string");
      ArrayNode values = schema.putArray("enum");
      for (Object constant : c.getEnumConstants()) {
        values.add(((Enum<?>) constant).name());
      }
    } else if (c.isRecord()) {
      schema.put("type", "object");
      ObjectNode properties = schema.putObject("properties");
      ArrayNode required = JSON.arrayNode();
      for (RecordComponent component : c.getRecordComponents()) {
        properties.set(component.getName(), schemaOf(component.getGenericType()));
        if (component.getType().isPrimitive()) {
          required.add(component.getName());
        }
      }
      if (!required.isEmpty()) {
        schema.set("required", required);
      }
    } else {
      ProtobufSchemas.describe(c, schema, this);
    }
    return name;
  }

  private static ObjectNode nullable(ObjectNode schema) {
    ObjectNode n = JSON.objectNode();
    n.putArray("oneOf").add(schema).add(JSON.objectNode().put("type", "null"));
    return n;
  }

  private static ObjectNode scalar(Class<?> c) {
    ObjectNode s = JSON.objectNode();
    if (c == String.class || c == char.class || c == Character.class) {
      return s.put("type", "string");
    }
    if (c == boolean.class || c == Boolean.class) {
      return s.put("type", "boolean");
    }
    if (c == int.class
        || c == Integer.class
        || c == short.class
        || c == Short.class
        || c == byte.class
        || c == Byte.class) {
      return s.put("type", "integer").put("format", "int32");
    }
    if (c == long.class || c == Long.class) {
      return s.put("type", "integer").put("format", "int64");
    }
    if (c == BigInteger.class) {
      return s.put("type", "integer");
    }
    if (c == double.class || c == Double.class) {
      return s.put("type", "number").put("format", "double");
    }
    if (c == float.class || c == Float.class) {
      return s.put("type", "number").put("format", "float");
    }
    if (c == BigDecimal.class) {
      return s.put("type", "number");
    }
    if (c == byte[].class) {
      return s.put("type", "string").put("contentEncoding", "base64");
    }
    if (c == UUID.class) {
      return s.put("type", "string").put("format", "uuid");
    }
    if (c == Instant.class || c == OffsetDateTime.class || c == ZonedDateTime.class) {
      return s.put("type", "string").put("format", "date-time");
    }
    if (c == LocalDate.class) {
      return s.put("type", "string").put("format", "date");
    }
    if (c == LocalDateTime.class) {
      return s.put("type", "string");
    }
    if (c == Duration.class) {
      return s.put("type", "string").put("format", "duration");
    }
    if (c == Object.class) {
      return s;
    }
    return null;
  }

  /** A contract document as indented JSON with a final newline (stable, for committed copies). */
  static String indented(ObjectNode document) {
    try {
      return WRITER.writeValueAsString(document) + "\n";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
