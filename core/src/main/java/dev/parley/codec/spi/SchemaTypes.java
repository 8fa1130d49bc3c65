package dev.parley.codec.spi;

import java.util.Set;

/**
 * Recognizes classes generated from Protobuf, Avro or Thrift schemas without depending on those
 * libraries, so that reflection-based codecs (JSON, XML) leave them to their own codecs.
 */
public final class SchemaTypes {

  private static final Set<String> GENERATED_ROOTS =
      Set.of(
          "com.google.protobuf.MessageLite",
          "org.apache.avro.specific.SpecificRecord",
          "org.apache.avro.generic.IndexedRecord",
          "org.apache.thrift.TBase");

  private static final ClassValue<Boolean> CACHE =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          return implementsGeneratedRoot(type);
        }
      };

  private SchemaTypes() {}

  /** Whether {@code type} is a Protobuf message, an Avro record or a Thrift struct. */
  public static boolean isSchemaGenerated(Class<?> type) {
    return CACHE.get(type);
  }

  private static boolean implementsGeneratedRoot(Class<?> type) {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      if (GENERATED_ROOTS.contains(c.getName())) {
        return true;
      }
      for (Class<?> i : c.getInterfaces()) {
        if (implementsGeneratedRoot(i)) {
          return true;
        }
      }
    }
    return false;
  }
}
