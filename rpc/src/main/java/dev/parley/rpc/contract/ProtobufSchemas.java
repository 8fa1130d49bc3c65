package dev.parley.rpc.contract;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;

/** The JSON Schema of a Protobuf message in its canonical JSON mapping (field json names). */
final class ProtobufSchemas {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private ProtobufSchemas() {}

  static void describe(Class<?> type, ObjectNode schema, JsonSchemas schemas) {
    schema.put("type", "object");
    Descriptor descriptor;
    try {
      descriptor = (Descriptor) type.getMethod("getDescriptor").invoke(null);
    } catch (ReflectiveOperationException | ClassCastException e) {
      schema.put("description", "Protobuf message " + type.getName());
      return;
    }
    schema.put("description", "Protobuf message " + descriptor.getFullName() + " (JSON mapping)");
    ObjectNode properties = schema.putObject("properties");
    for (FieldDescriptor field : descriptor.getFields()) {
      ObjectNode one = scalar(field);
      properties.set(
          field.getJsonName(),
          field.isRepeated() && !field.isMapField()
              ? JSON.objectNode().put("type", "array").set("items", one)
              : one);
    }
  }

  private static ObjectNode scalar(FieldDescriptor field) {
    ObjectNode s = JSON.objectNode();
    return switch (field.getJavaType()) {
      case INT -> s.put("type", "integer").put("format", "int32");
      case LONG -> s.put("type", "string").put("format", "int64"); // proto3 JSON: int64 as string
      case FLOAT, DOUBLE -> s.put("type", "number");
      case BOOLEAN -> s.put("type", "boolean");
      case STRING -> s.put("type", "string");
      case BYTE_STRING -> s.put("type", "string").put("contentEncoding", "base64");
      case ENUM -> {
        var values = s.put("type", "string").putArray("enum");
        field.getEnumType().getValues().forEach(v -> values.add(v.getName()));
        yield s;
      }
      case MESSAGE -> s.put("type", "object");
    };
  }
}
