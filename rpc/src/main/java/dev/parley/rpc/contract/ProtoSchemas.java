package dev.parley.rpc.contract;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Timestamp;
import dev.parley.operation.Operation;
import dev.parley.operation.ProtoField;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Derives the {@code .proto} (proto3) of operations on Java records, one file per gRPC package: a
 * message per record, an enum per Java enum, and a service per operation service with one unary
 * method per operation ({@code {service}/{name}}, the method Parley serves). The same descriptors
 * ({@link #descriptors}) are what Parley speaks on the wire for {@code application/grpc}, lists in
 * server reflection and serves as text under {@code /proto/}.
 *
 * <p>Field numbers are the components' positions unless pinned with {@link ProtoField}; enum values
 * are {@code <ENUM_NAME>_<CONSTANT>} numbered by ordinal (proto3 enum values share their package's
 * scope, so the prefix keeps two enums' constants apart). Types: {@code int}/{@code long}/{@code
 * boolean}/{@code double}/{@code float} their scalars; Java's nullable types are {@code optional}
 * (explicit presence, so {@code null} stays {@code null}): {@code String}, boxed scalars, enums,
 * {@code BigDecimal}, {@code BigInteger} and {@code UUID} (the last three as strings), {@code
 * Optional<T>}; {@code byte[]} bytes, collections repeated, {@code Map<String, V>} a map, {@code
 * Instant} {@code google.protobuf.Timestamp}, other records their messages. Generated Protobuf
 * messages (as operation types or fields) are used as they are, their file imported.
 */
public final class ProtoSchemas {

  private static final String TIMESTAMP_FILE = "google/protobuf/timestamp.proto";

  private ProtoSchemas() {}

  /** The {@code .proto} files of {@code operations}, by file name ({@code <package>.proto}). */
  public static Map<String, String> files(List<? extends Operation<?, ?>> operations) {
    Map<String, String> files = new LinkedHashMap<>();
    protos(operations).forEach((name, built) -> files.put(name, ProtoText.of(built.proto())));
    return files;
  }

  /**
   * The descriptors of {@code operations}' files, by file name: the messages a {@code
   * application/grpc} call carries and the services server reflection lists.
   *
   * @throws IllegalArgumentException if a type has no Protobuf mapping or two numbers clash
   */
  public static Map<String, Descriptors.FileDescriptor> descriptors(
      List<? extends Operation<?, ?>> operations) {
    Map<String, Descriptors.FileDescriptor> out = new LinkedHashMap<>();
    protos(operations)
        .forEach(
            (name, built) -> {
              try {
                out.put(
                    name,
                    Descriptors.FileDescriptor.buildFrom(
                        built.proto(),
                        built.dependencies().toArray(new Descriptors.FileDescriptor[0])));
              } catch (Descriptors.DescriptorValidationException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
              }
            });
    return out;
  }

  /** The {@code .proto} source of a file {@link #descriptors} derived. */
  public static String text(Descriptors.FileDescriptor file) {
    return ProtoText.of(file.toProto());
  }

  /** The message (or enum) name a Java type has in its derived file. */
  public static String messageName(Class<?> type) {
    return type.getSimpleName();
  }

  /** The gRPC package of an operation service ({@code shop.v1.Orders} is in {@code shop.v1}). */
  public static String packageOf(String service) {
    int dot = service.lastIndexOf('.');
    return dot < 0 ? "" : service.substring(0, dot);
  }

  /** The file an operation service's definitions are in. */
  public static String fileOf(String service) {
    String pkg = packageOf(service);
    return (pkg.isEmpty() ? "parley" : pkg) + ".proto";
  }

  private static String serviceOf(String service) {
    int dot = service.lastIndexOf('.');
    return dot < 0 ? service : service.substring(dot + 1);
  }

  /** A derived file and the files it imports. */
  private record Built(FileDescriptorProto proto, List<Descriptors.FileDescriptor> dependencies) {}

  private static Map<String, Built> protos(List<? extends Operation<?, ?>> operations) {
    Map<String, List<Operation<?, ?>>> byPackage = new LinkedHashMap<>();
    for (Operation<?, ?> op : operations) {
      byPackage.computeIfAbsent(packageOf(op.service()), p -> new ArrayList<>()).add(op);
    }
    Map<String, Built> files = new LinkedHashMap<>();
    byPackage.forEach(
        (pkg, ops) -> {
          String name = (pkg.isEmpty() ? "parley" : pkg) + ".proto";
          FileBuilder builder = new FileBuilder(name, pkg);
          FileDescriptorProto proto = builder.build(ops);
          files.put(name, new Built(proto, List.copyOf(builder.dependencies.values())));
        });
    return files;
  }

  /** Builds one file's descriptor. */
  private static final class FileBuilder {
    private final FileDescriptorProto.Builder file;
    private final String pkg;
    private final Map<String, Descriptors.FileDescriptor> dependencies = new LinkedHashMap<>();

    FileBuilder(String name, String pkg) {
      this.pkg = pkg;
      this.file = FileDescriptorProto.newBuilder().setName(name).setSyntax("proto3");
      if (!pkg.isEmpty()) {
        file.setPackage(pkg);
      }
    }

    FileDescriptorProto build(List<Operation<?, ?>> ops) {
      Set<Class<?>> types = new LinkedHashSet<>();
      for (Operation<?, ?> op : ops) {
        collect(op.inputType(), types);
        collect(op.outputType(), types);
      }
      Map<String, Class<?>> names = new HashMap<>();
      for (Class<?> type : types) {
        Class<?> other = names.putIfAbsent(messageName(type), type);
        if (other != null) {
          throw new IllegalArgumentException(
              "two types named "
                  + messageName(type)
                  + " in package '"
                  + pkg
                  + "': "
                  + other.getName()
                  + " and "
                  + type.getName()
                  + " (expected: one)");
        }
        if (type.isEnum()) {
          file.addEnumType(enumOf(type));
        } else {
          file.addMessageType(message(type));
        }
      }
      Map<String, ServiceDescriptorProto.Builder> services = new LinkedHashMap<>();
      for (Operation<?, ?> op : ops) {
        services
            .computeIfAbsent(
                serviceOf(op.service()), s -> ServiceDescriptorProto.newBuilder().setName(s))
            .addMethod(
                MethodDescriptorProto.newBuilder()
                    .setName(op.name())
                    .setInputType(typeName(op.inputType()))
                    .setOutputType(typeName(op.outputType())));
      }
      services.values().forEach(file::addService);
      dependencies.keySet().forEach(file::addDependency);
      return file.build();
    }

    private String typeName(Class<?> type) {
      Descriptors.Descriptor generated = generated(type);
      if (generated != null) {
        dependencies.put(generated.getFile().getName(), generated.getFile());
        return "." + generated.getFullName();
      }
      return "." + (pkg.isEmpty() ? "" : pkg + ".") + messageName(type);
    }

    private static EnumDescriptorProto enumOf(Class<?> type) {
      String prefix = upperSnake(type.getSimpleName());
      EnumDescriptorProto.Builder e = EnumDescriptorProto.newBuilder().setName(messageName(type));
      Object[] constants = type.getEnumConstants();
      for (int i = 0; i < constants.length; i++) {
        e.addValue(
            EnumValueDescriptorProto.newBuilder()
                .setName(prefix + '_' + ((Enum<?>) constants[i]).name())
                .setNumber(i));
      }
      return e.build();
    }

    private DescriptorProto message(Class<?> type) {
      DescriptorProto.Builder m = DescriptorProto.newBuilder().setName(messageName(type));
      Set<Integer> used = new HashSet<>();
      RecordComponent[] components = type.getRecordComponents();
      for (int i = 0; i < components.length; i++) {
        RecordComponent rc = components[i];
        int number = numberOf(type, rc, i + 1);
        if (!used.add(number)) {
          throw new IllegalArgumentException(
              type.getSimpleName()
                  + "."
                  + rc.getName()
                  + ": field number "
                  + number
                  + " used twice");
        }
        FieldDescriptorProto.Builder f =
            FieldDescriptorProto.newBuilder().setName(rc.getName()).setNumber(number);
        if (field(rc.getGenericType(), f, m, rc.getName())) {
          // proto3 optional: the field sits alone in a synthetic oneof named "_<field>" (declared
          // after every real oneof; there are none here)
          f.setProto3Optional(true).setOneofIndex(m.getOneofDeclCount());
          m.addOneofDecl(OneofDescriptorProto.newBuilder().setName("_" + f.getName()));
        }
        m.addField(f);
      }
      return m.build();
    }

    /**
     * Sets {@code f}'s label and type for a Java type; true when the field is {@code optional}. Map
     * fields add their entry message to {@code owner}.
     */
    private boolean field(
        Type type,
        FieldDescriptorProto.Builder f,
        DescriptorProto.Builder owner,
        String fieldName) {
      f.setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
      if (type instanceof ParameterizedType p) {
        Class<?> raw = (Class<?>) p.getRawType();
        Type[] args = p.getActualTypeArguments();
        if (Collection.class.isAssignableFrom(raw)) {
          element(args[0], f);
          f.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED);
          return false;
        }
        if (Map.class.isAssignableFrom(raw)) {
          if (args[0] != String.class) {
            throw new IllegalArgumentException(
                fieldName + ": map keys must be String (expected: Map<String, V>)");
          }
          String entry = camel(fieldName) + "Entry";
          FieldDescriptorProto.Builder key =
              FieldDescriptorProto.newBuilder()
                  .setName("key")
                  .setNumber(1)
                  .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
                  .setType(FieldDescriptorProto.Type.TYPE_STRING);
          FieldDescriptorProto.Builder value =
              FieldDescriptorProto.newBuilder().setName("value").setNumber(2);
          element(args[1], value);
          value.setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
          owner.addNestedType(
              DescriptorProto.newBuilder()
                  .setName(entry)
                  .addField(key)
                  .addField(value)
                  .setOptions(MessageOptions.newBuilder().setMapEntry(true)));
          f.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED)
              .setType(FieldDescriptorProto.Type.TYPE_MESSAGE)
              .setTypeName("." + (pkg.isEmpty() ? "" : pkg + ".") + owner.getName() + "." + entry);
          return false;
        }
        if (raw == Optional.class) {
          element(args[0], f);
          return true;
        }
        return field(raw, f, owner, fieldName);
      }
      Class<?> c = (Class<?>) type;
      element(c, f);
      return !c.isPrimitive()
          && c != byte[].class
          && !c.isRecord()
          && c != Instant.class
          && generated(c) == null;
    }

    /** The type of one value (a field's, or a repeated field's or map value's element). */
    private void element(Type type, FieldDescriptorProto.Builder f) {
      if (type instanceof ParameterizedType p) {
        Class<?> raw = (Class<?>) p.getRawType();
        if (Collection.class.isAssignableFrom(raw) || Map.class.isAssignableFrom(raw)) {
          throw new IllegalArgumentException(
              f.getName()
                  + ": nested collections have no Protobuf mapping (wrap them in a record)");
        }
        element(raw, f);
        return;
      }
      Class<?> c = (Class<?>) type;
      FieldDescriptorProto.Type scalar =
          switch (c.getName()) {
            case "int", "short", "byte", "java.lang.Integer", "java.lang.Short", "java.lang.Byte" ->
                FieldDescriptorProto.Type.TYPE_INT32;
            case "long", "java.lang.Long" -> FieldDescriptorProto.Type.TYPE_INT64;
            case "boolean", "java.lang.Boolean" -> FieldDescriptorProto.Type.TYPE_BOOL;
            case "double", "java.lang.Double" -> FieldDescriptorProto.Type.TYPE_DOUBLE;
            case "float", "java.lang.Float" -> FieldDescriptorProto.Type.TYPE_FLOAT;
            case "java.lang.String",
                "java.math.BigDecimal",
                "java.util.UUID",
                "java.math.BigInteger" ->
                FieldDescriptorProto.Type.TYPE_STRING;
            case "[B" -> FieldDescriptorProto.Type.TYPE_BYTES;
            default -> null;
          };
      if (scalar != null) {
        f.setType(scalar);
      } else if (c == Instant.class) {
        dependencies.put(TIMESTAMP_FILE, Timestamp.getDescriptor().getFile());
        f.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".google.protobuf.Timestamp");
      } else if (c.isEnum()) {
        f.setType(FieldDescriptorProto.Type.TYPE_ENUM).setTypeName(typeName(c));
      } else if (c.isRecord() || generated(c) != null) {
        f.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(typeName(c));
      } else {
        throw new IllegalArgumentException(
            c.getName() + ": no Protobuf mapping (expected: a record, an enum or a scalar)");
      }
    }
  }

  private static void collect(Type type, Set<Class<?>> into) {
    if (type instanceof ParameterizedType p) {
      for (Type arg : p.getActualTypeArguments()) {
        collect(arg, into);
      }
      return;
    }
    if (!(type instanceof Class<?> c)) {
      throw new IllegalArgumentException(
          type + ": no Protobuf mapping (expected: a concrete type)");
    }
    if (generated(c) != null) {
      return;
    }
    if ((c.isRecord() || c.isEnum()) && into.add(c) && c.isRecord()) {
      for (RecordComponent rc : c.getRecordComponents()) {
        collect(rc.getGenericType(), into);
      }
    }
    if (!c.isRecord() && !c.isEnum() && !scalarOrKnown(c) && generated(c) == null) {
      throw new IllegalArgumentException(
          c.getName()
              + ": no Protobuf mapping (expected: a record, an enum, a scalar or a generated"
              + " Protobuf message)");
    }
  }

  /**
   * The descriptor of a generated Protobuf message class (its own {@code .proto} defines it; the
   * derived file imports that), else null.
   */
  static Descriptors.Descriptor generated(Class<?> type) {
    if (!com.google.protobuf.Message.class.isAssignableFrom(type)) {
      return null;
    }
    try {
      return (Descriptors.Descriptor) type.getMethod("getDescriptor").invoke(null);
    } catch (ReflectiveOperationException | ClassCastException e) {
      return null;
    }
  }

  private static boolean scalarOrKnown(Class<?> c) {
    return c.isPrimitive()
        || c == String.class
        || c == byte[].class
        || Number.class.isAssignableFrom(c)
        || c == Boolean.class
        || c == Instant.class
        || c == UUID.class
        || Collection.class.isAssignableFrom(c)
        || Map.class.isAssignableFrom(c)
        || c == Optional.class;
  }

  private static int numberOf(Class<?> type, RecordComponent rc, int position) {
    ProtoField pinned = rc.getAnnotation(ProtoField.class);
    if (pinned == null) {
      try {
        pinned = type.getDeclaredField(rc.getName()).getAnnotation(ProtoField.class);
      } catch (NoSuchFieldException e) {
        // records always have the field
      }
    }
    int n = pinned == null ? position : pinned.value();
    if (n < 1 || n > 536_870_911 || (n >= 19_000 && n <= 19_999)) {
      throw new IllegalArgumentException(
          type.getSimpleName() + "." + rc.getName() + ": field number " + n + " (not allowed)");
    }
    return n;
  }

  private static String camel(String name) {
    StringBuilder out = new StringBuilder();
    boolean up = true;
    for (char ch : name.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        out.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return out.toString();
  }

  static String upperSnake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }
}
