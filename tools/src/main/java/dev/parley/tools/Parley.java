package dev.parley.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors;
import dev.parley.codec.Codecs;
import dev.parley.codec.avro.AvroCompatibility;
import dev.parley.codec.json.JsonCodec;
import dev.parley.codec.protobuf.ProtobufCompatibility;
import dev.parley.operation.Operation;
import dev.parley.rpc.contract.AsyncApi;
import dev.parley.rpc.contract.ContractCheck;
import dev.parley.rpc.contract.OpenApi;
import dev.parley.rpc.contract.ProtoSchemas;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The {@code parley} command: writes an API's contract documents from its model and gates changes
 * against a committed baseline of them.
 *
 * <pre>
 * parley contracts --model com.example.Contracts [--name api] [--title T] [--api-version V] --out DIR
 * parley check [--mode backward|forward|full] BASELINE CURRENT
 * </pre>
 *
 * <p>{@code contracts} calls the model class's {@code public static List<Operation<?, ?>>
 * operations()} and, when it has one, {@code public static AsyncApi asyncApi()}, and writes {@code
 * DIR/<name>-openapi.json} (bodies as JSON), {@code DIR/<name>-asyncapi.json}, the derived {@code
 * DIR/proto/<package>.proto} files of the record operations and their descriptor set {@code
 * DIR/<name>-proto.binpb}. Run it in a build with the model on the class path (Maven: {@code
 * exec:java -Dexec.mainClass=dev.parley.tools.Parley -Dexec.args="contracts ..."}).
 *
 * <p>{@code check} compares every contract of BASELINE (a directory or one file) with the file of
 * the same name in CURRENT: {@code *openapi.json} and {@code *asyncapi.json} with the model rules
 * ({@link ContractCheck}: operations, channels, routes, error codes, fields), {@code *.binpb}
 * descriptor sets with the Protobuf rules ({@link ProtobufCompatibility}: fields, numbers, types,
 * enums, oneofs, reserved, services and methods), {@code *.avsc} with Avro's ({@link
 * AvroCompatibility}, in the mode); {@code node_modules} and hidden directories are skipped. A
 * contract missing from CURRENT is a problem. Exit code 0 compatible, 1 not, 2 bad use.
 */
public final class Parley {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Parley() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** The command line without exiting: 0 done or compatible, 1 incompatible, 2 bad use. */
  public static int run(String[] args, PrintStream out) {
    if (args.length == 0) {
      return usage(out);
    }
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    return switch (args[0]) {
      case "contracts" -> contracts(rest, out);
      case "check" -> check(rest, out);
      default -> usage(out);
    };
  }

  private static int usage(PrintStream out) {
    out.println(
        "usage: parley contracts --model CLASS [--name N] [--title T] [--api-version V] --out DIR");
    out.println("       parley check [--mode backward|forward|full] BASELINE CURRENT");
    return 2;
  }

  // ---- contracts ----

  private static int contracts(String[] args, PrintStream out) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        return usage(out);
      }
      options.put(args[i].substring(2), args[++i]);
    }
    String model = options.get("model");
    String dir = options.get("out");
    if (model == null || dir == null) {
      return usage(out);
    }
    String name = options.getOrDefault("name", "api");
    try {
      Class<?> type = Class.forName(model, true, Thread.currentThread().getContextClassLoader());
      List<Operation<?, ?>> operations = operationsOf(type);
      Path target = Path.of(dir);
      Files.createDirectories(target);
      List<String> written = new ArrayList<>();
      Path openApi = target.resolve(name + "-openapi.json");
      Files.writeString(
          openApi,
          OpenApi.builder(
                  options.getOrDefault("title", type.getSimpleName()),
                  options.getOrDefault("api-version", "1"))
              .operations(operations)
              .codecs(Codecs.of(JsonCodec.of()))
              .toJson());
      written.add(openApi.toString());
      AsyncApi asyncApi = asyncApiOf(type);
      if (asyncApi != null) {
        Path file = target.resolve(name + "-asyncapi.json");
        Files.writeString(file, asyncApi.toJson());
        written.add(file.toString());
      }
      List<Operation<?, ?>> described = new ArrayList<>();
      for (Operation<?, ?> op : operations) {
        try {
          ProtoSchemas.descriptors(List.of(op));
          described.add(op);
        } catch (IllegalArgumentException e) {
          out.println("no .proto for " + op.service() + "/" + op.name() + ": " + e.getMessage());
        }
      }
      if (!described.isEmpty()) {
        Map<String, Descriptors.FileDescriptor> derived = ProtoSchemas.descriptors(described);
        Path protoDir = Files.createDirectories(target.resolve("proto"));
        for (Map.Entry<String, Descriptors.FileDescriptor> f : derived.entrySet()) {
          Path file = protoDir.resolve(f.getKey());
          Files.writeString(file, ProtoSchemas.text(f.getValue()));
          written.add(file.toString());
        }
        Path set = target.resolve(name + "-proto.binpb");
        Files.write(set, descriptorSet(derived.values()).toByteArray());
        written.add(set.toString());
      }
      written.forEach(w -> out.println("wrote " + w));
      return 0;
    } catch (ClassNotFoundException e) {
      out.println("--model: no class " + model + " on the class path");
      return 2;
    } catch (IllegalArgumentException e) {
      out.println("--model " + model + ": " + e.getMessage());
      return 2;
    } catch (IOException e) {
      out.println("cannot write: " + e.getMessage());
      return 2;
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Operation<?, ?>> operationsOf(Class<?> type) {
    try {
      Method m = type.getMethod("operations");
      if (!Modifier.isStatic(m.getModifiers())) {
        throw new IllegalArgumentException("operations() is not static");
      }
      Object value = m.invoke(null);
      if (!(value instanceof List<?> list)
          || list.stream().anyMatch(o -> !(o instanceof Operation<?, ?>))) {
        throw new IllegalArgumentException("operations() does not return a List<Operation<?, ?>>");
      }
      return (List<Operation<?, ?>>) list;
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException(
          "no public static List<Operation<?, ?>> operations() (expected one)");
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("operations(): " + e.getCause(), e);
    }
  }

  private static AsyncApi asyncApiOf(Class<?> type) {
    try {
      Method m = type.getMethod("asyncApi");
      if (!Modifier.isStatic(m.getModifiers()) || !AsyncApi.class.equals(m.getReturnType())) {
        return null;
      }
      return (AsyncApi) m.invoke(null);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException("asyncApi(): " + e.getCause(), e);
    }
  }

  /** The files and everything they import, dependencies first, as {@code protoc -o} writes. */
  private static FileDescriptorSet descriptorSet(
      java.util.Collection<Descriptors.FileDescriptor> files) {
    Set<Descriptors.FileDescriptor> ordered = new LinkedHashSet<>();
    files.forEach(f -> addWithDependencies(f, ordered));
    FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
    ordered.forEach(f -> set.addFile(f.toProto()));
    return set.build();
  }

  private static void addWithDependencies(
      Descriptors.FileDescriptor file, Set<Descriptors.FileDescriptor> into) {
    for (Descriptors.FileDescriptor dep : file.getDependencies()) {
      addWithDependencies(dep, into);
    }
    into.add(file);
  }

  // ---- check ----

  private static int check(String[] args, PrintStream out) {
    String mode = "backward";
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--mode") && i + 1 < args.length) {
        mode = args[++i].toLowerCase(Locale.ROOT);
      } else {
        paths.add(args[i]);
      }
    }
    if (paths.size() != 2 || !List.of("backward", "forward", "full").contains(mode)) {
      return usage(out);
    }
    Path baseline = Path.of(paths.get(0));
    Path current = Path.of(paths.get(1));
    List<Path[]> pairs = new ArrayList<>();
    try {
      if (Files.isDirectory(baseline)) {
        try (Stream<Path> walk = Files.walk(baseline)) {
          for (Path p :
              walk.filter(Files::isRegularFile)
                  .filter(p -> !installed(baseline.relativize(p)))
                  .sorted()
                  .toList()) {
            if (kind(p) != null) {
              pairs.add(new Path[] {p, current.resolve(baseline.relativize(p).toString())});
            }
          }
        }
      } else if (kind(baseline) != null) {
        pairs.add(new Path[] {baseline, current});
      }
    } catch (IOException e) {
      out.println("cannot read " + baseline + ": " + e.getMessage());
      return 2;
    }
    if (pairs.isEmpty()) {
      out.println("no contract (*openapi.json, *asyncapi.json, *.binpb, *.avsc) in " + baseline);
      return 2;
    }
    List<String> problems = new ArrayList<>();
    for (Path[] pair : pairs) {
      String label = pair[0].getFileName().toString();
      if (!Files.isRegularFile(pair[1])) {
        problems.add(label + ": missing (the baseline has it)");
        continue;
      }
      List<String> found;
      try {
        found = compare(kind(pair[0]), pair[0], pair[1], mode);
      } catch (IOException | RuntimeException e) {
        out.println("cannot check " + label + ": " + e.getMessage());
        return 2;
      }
      found.forEach(p -> problems.add(label + ": " + p));
    }
    problems.forEach(out::println);
    out.println(
        problems.isEmpty()
            ? "compatible (" + mode + "), " + pairs.size() + " contract(s)"
            : problems.size() + " incompatible change(s) (" + mode + ")");
    return problems.isEmpty() ? 0 : 1;
  }

  /** Under {@code node_modules} or a hidden directory: tools' files, not contracts. */
  private static boolean installed(Path relative) {
    for (Path part : relative) {
      String name = part.toString();
      if (name.equals("node_modules") || (name.startsWith(".") && name.length() > 1)) {
        return true;
      }
    }
    return false;
  }

  private static String kind(Path file) {
    String name = file.getFileName().toString();
    if (name.endsWith("openapi.json") || name.endsWith("asyncapi.json")) {
      return "model";
    }
    if (name.endsWith(".binpb") || name.endsWith(".desc")) {
      return "protobuf";
    }
    if (name.endsWith(".avsc")) {
      return "avro";
    }
    return null;
  }

  private static List<String> compare(String kind, Path older, Path newer, String mode)
      throws IOException {
    return switch (kind) {
      case "model" -> {
        JsonNode was = JSON.readTree(older.toFile());
        JsonNode now = JSON.readTree(newer.toFile());
        ContractCheck.Mode m = ContractCheck.Mode.valueOf(mode.toUpperCase(Locale.ROOT));
        yield was.has("asyncapi")
            ? ContractCheck.asyncApi(was, now, m)
            : ContractCheck.openApi(was, now, m);
      }
      case "protobuf" ->
          ProtobufCompatibility.check(
              ProtobufCompatibility.read(older), ProtobufCompatibility.read(newer));
      case "avro" ->
          AvroCompatibility.check(
              new org.apache.avro.Schema.Parser().parse(older.toFile()),
              new org.apache.avro.Schema.Parser().parse(newer.toFile()),
              AvroCompatibility.Mode.valueOf(mode.toUpperCase(Locale.ROOT)));
      default -> throw new IllegalStateException(kind);
    };
  }
}
