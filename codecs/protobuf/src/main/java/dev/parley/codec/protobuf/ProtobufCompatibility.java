package dev.parley.codec.protobuf;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks that a new version of protobuf schemas stays wire-compatible with the old one: no field
 * removed without reserving its number and name, renumbered, retyped or changed between singular
 * and repeated, and no new field reusing a reserved number. Works on descriptor sets ({@code protoc
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
