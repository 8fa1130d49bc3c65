package dev.parley.codec.protobuf;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checks that a new version of protobuf schemas stays compatible with the old one on the wire and
 * in the JSON mapping: no message, enum or service removed; no field removed without reserving its
 * number and name, renumbered, retyped, renamed, changed between singular and repeated, or moved
 * into, out of or between oneofs; no new field reusing a reserved number; no enum value removed
 * without reserving its number and name, or renumbered; no method removed, or changed in its input
 * or output type or its streaming. Cross-checked against {@code buf breaking} (WIRE_JSON) on the
 * same cases in {@code ProtobufCompatibilityBufIT}. Works on descriptor sets ({@code protoc
 * --descriptor_set_out=F --include_imports}), so it needs no compiler at check time.
 *
 * <pre>
 * java -cp parley-codec-protobuf.jar:protobuf-java.jar dev.parley.codec.protobuf.ProtobufCompatibility old.desc new.desc
 * </pre>
 */
public final class ProtobufCompatibility {

  private ProtobufCompatibility() {}

  /**
   * The incompatibilities between two descriptor sets, for every message present in the old one;
   * empty when compatible.
   */
  public static List<String> check(FileDescriptorSet older, FileDescriptorSet newer) {
    Map<String, DescriptorProto> oldMessages = messages(older);
    Map<String, DescriptorProto> newMessages = messages(newer);
    List<String> problems = new ArrayList<>();
    oldMessages.forEach(
        (name, old) -> {
          DescriptorProto current = newMessages.get(name);
          if (current == null) {
            problems.add(name + ": message removed");
          } else {
            problems.addAll(check(name, old, current));
          }
        });
    Map<String, EnumDescriptorProto> newEnums = enums(newer);
    enums(older)
        .forEach(
            (name, old) -> {
              EnumDescriptorProto current = newEnums.get(name);
              if (current == null) {
                problems.add(name + ": enum removed");
              } else {
                problems.addAll(checkEnum(name, old, current));
              }
            });
    Map<String, ServiceDescriptorProto> newServices = services(newer);
    services(older)
        .forEach(
            (name, old) -> {
              ServiceDescriptorProto current = newServices.get(name);
              if (current == null) {
                problems.add(name + ": service removed");
              } else {
                problems.addAll(checkService(name, old, current));
              }
            });
    return problems;
  }

  /** The incompatibilities of an enum's new version: values removed or renumbered. */
  static List<String> checkEnum(String name, EnumDescriptorProto older, EnumDescriptorProto newer) {
    List<String> problems = new ArrayList<>();
    Map<Integer, EnumValueDescriptorProto> byNumber = new LinkedHashMap<>();
    Map<String, EnumValueDescriptorProto> byName = new LinkedHashMap<>();
    for (EnumValueDescriptorProto v : newer.getValueList()) {
      byNumber.putIfAbsent(v.getNumber(), v);
      byName.put(v.getName(), v);
    }
    for (EnumValueDescriptorProto old : older.getValueList()) {
      String where = name + "." + old.getName() + " = " + old.getNumber();
      EnumValueDescriptorProto sameName = byName.get(old.getName());
      if (sameName != null && sameName.getNumber() != old.getNumber()) {
        problems.add(where + ": renumbered to " + sameName.getNumber());
      }
      EnumValueDescriptorProto now = byNumber.get(old.getNumber());
      if (now == null) {
        boolean reserved =
            newer.getReservedRangeList().stream()
                .anyMatch(r -> old.getNumber() >= r.getStart() && old.getNumber() <= r.getEnd());
        if (!reserved || !newer.getReservedNameList().contains(old.getName())) {
          problems.add(where + ": enum value removed without reserving its number and name");
        }
      } else if (!now.getName().equals(old.getName()) && sameName == null) {
        problems.add(
            where + ": enum value renamed to " + now.getName() + " (breaks the JSON mapping)");
      }
    }
    return problems;
  }

  /** The incompatibilities of a service's new version: methods removed or changed. */
  static List<String> checkService(
      String name, ServiceDescriptorProto older, ServiceDescriptorProto newer) {
    List<String> problems = new ArrayList<>();
    Map<String, MethodDescriptorProto> methods = new LinkedHashMap<>();
    newer.getMethodList().forEach(m -> methods.put(m.getName(), m));
    for (MethodDescriptorProto old : older.getMethodList()) {
      String where = name + "/" + old.getName();
      MethodDescriptorProto now = methods.get(old.getName());
      if (now == null) {
        problems.add(where + ": method removed");
        continue;
      }
      if (!now.getInputType().equals(old.getInputType())) {
        problems.add(
            where + ": input changed from " + old.getInputType() + " to " + now.getInputType());
      }
      if (!now.getOutputType().equals(old.getOutputType())) {
        problems.add(
            where + ": output changed from " + old.getOutputType() + " to " + now.getOutputType());
      }
      if (now.getClientStreaming() != old.getClientStreaming()
          || now.getServerStreaming() != old.getServerStreaming()) {
        problems.add(where + ": streaming changed");
      }
    }
    return problems;
  }

  /** The incompatibilities of {@code newer} read against {@code older}, as one message. */
  public static List<String> check(String name, DescriptorProto older, DescriptorProto newer) {
    List<String> problems = new ArrayList<>();
    Map<Integer, FieldDescriptorProto> newByNumber = new LinkedHashMap<>();
    Map<String, FieldDescriptorProto> newByName = new LinkedHashMap<>();
    for (FieldDescriptorProto f : newer.getFieldList()) {
      newByNumber.put(f.getNumber(), f);
      newByName.put(f.getName(), f);
    }
    for (FieldDescriptorProto old : older.getFieldList()) {
      String where = name + "." + old.getName() + " = " + old.getNumber();
      FieldDescriptorProto now = newByNumber.get(old.getNumber());
      FieldDescriptorProto sameName = newByName.get(old.getName());
      if (sameName != null && sameName.getNumber() != old.getNumber()) {
        problems.add(where + ": renumbered to " + sameName.getNumber());
      }
      if (now == null) {
        if (!isReserved(newer, old.getNumber())
            || !newer.getReservedNameList().contains(old.getName())) {
          problems.add(where + ": removed without reserving its number and name");
        }
        continue;
      }
      if (now.getType() != old.getType() || !now.getTypeName().equals(old.getTypeName())) {
        problems.add(where + ": retyped from " + typeOf(old) + " to " + typeOf(now));
      }
      if ((now.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED)
          != (old.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED)) {
        problems.add(where + ": changed between singular and repeated");
      }
      if (!now.getName().equals(old.getName())) {
        problems.add(where + ": renamed to " + now.getName() + " (breaks the JSON mapping)");
      }
      String oldOneof = oneofOf(older, old);
      String newOneof = oneofOf(newer, now);
      if (!Objects.equals(oldOneof, newOneof)) {
        problems.add(
            where
                + (oldOneof == null
                    ? ": moved into oneof " + newOneof
                    : newOneof == null
                        ? ": moved out of oneof " + oldOneof
                        : ": moved from oneof " + oldOneof + " to " + newOneof));
      }
    }
    for (FieldDescriptorProto f : newer.getFieldList()) {
      if (isReserved(older, f.getNumber())) {
        problems.add(
            name
                + "."
                + f.getName()
                + " = "
                + f.getNumber()
                + ": reuses a number the old version reserved");
      }
    }
    return problems;
  }

  /** The real oneof a field belongs to (a proto3 {@code optional}'s synthetic one is none). */
  private static String oneofOf(DescriptorProto message, FieldDescriptorProto field) {
    if (!field.hasOneofIndex() || field.getProto3Optional()) {
      return null;
    }
    return message.getOneofDecl(field.getOneofIndex()).getName();
  }

  private static boolean isReserved(DescriptorProto message, int number) {
    return message.getReservedRangeList().stream()
        .anyMatch(r -> number >= r.getStart() && number < r.getEnd());
  }

  private static String typeOf(FieldDescriptorProto f) {
    return f.getTypeName().isEmpty()
        ? f.getType().name().substring("TYPE_".length()).toLowerCase(java.util.Locale.ROOT)
        : f.getTypeName();
  }

  private static Map<String, DescriptorProto> messages(FileDescriptorSet set) {
    Map<String, DescriptorProto> all = new LinkedHashMap<>();
    for (FileDescriptorProto file : set.getFileList()) {
      String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
      for (DescriptorProto m : file.getMessageTypeList()) {
        collect(prefix + m.getName(), m, all);
      }
    }
    return all;
  }

  private static Map<String, EnumDescriptorProto> enums(FileDescriptorSet set) {
    Map<String, EnumDescriptorProto> all = new LinkedHashMap<>();
    for (FileDescriptorProto file : set.getFileList()) {
      String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
      file.getEnumTypeList().forEach(e -> all.put(prefix + e.getName(), e));
      for (DescriptorProto m : file.getMessageTypeList()) {
        collectEnums(prefix + m.getName(), m, all);
      }
    }
    return all;
  }

  private static void collectEnums(
      String name, DescriptorProto message, Map<String, EnumDescriptorProto> into) {
    message.getEnumTypeList().forEach(e -> into.put(name + "." + e.getName(), e));
    for (DescriptorProto nested : message.getNestedTypeList()) {
      collectEnums(name + "." + nested.getName(), nested, into);
    }
  }

  private static Map<String, ServiceDescriptorProto> services(FileDescriptorSet set) {
    Map<String, ServiceDescriptorProto> all = new LinkedHashMap<>();
    for (FileDescriptorProto file : set.getFileList()) {
      String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
      file.getServiceList().forEach(sv -> all.put(prefix + sv.getName(), sv));
    }
    return all;
  }

  private static void collect(
      String name, DescriptorProto message, Map<String, DescriptorProto> into) {
    into.put(name, message);
    for (DescriptorProto nested : message.getNestedTypeList()) {
      collect(name + "." + nested.getName(), nested, into);
    }
  }

  /** Reads a descriptor set file. */
  public static FileDescriptorSet read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return FileDescriptorSet.parseFrom(in);
    }
  }

  /**
   * {@code ProtobufCompatibility OLD.desc NEW.desc}: prints problems; exit code 1 if any, 2 on bad
   * use.
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** The command line without exiting: returns 0 if compatible, 1 if not, 2 on bad use. */
  public static int run(String[] args, java.io.PrintStream out) {
    if (args.length != 2) {
      out.println("usage: ProtobufCompatibility OLD_DESCRIPTOR_SET NEW_DESCRIPTOR_SET");
      return 2;
    }
    List<String> problems;
    try {
      problems = check(read(Path.of(args[0])), read(Path.of(args[1])));
    } catch (IOException e) {
      out.println("cannot read descriptor set: " + e.getMessage());
      return 2;
    }
    problems.forEach(out::println);
    out.println(problems.isEmpty() ? "compatible" : problems.size() + " incompatible change(s)");
    return problems.isEmpty() ? 0 : 1;
  }
}
