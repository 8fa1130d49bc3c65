package dev.parley.rpc.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import dev.parley.operation.Operation;
import dev.parley.operation.ProtoField;
import dev.parley.testing.kit.ContractTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's first step towards a .proto per record operation: the derived files name every
 * operation as the method Parley serves, number fields by position or {@link ProtoField}, and
 * compile with buf (npm {@code @bufbuild/buf}; that part is skipped, with the reason, where it is
 * not installed).
 */
class ProtoSchemasTest {

  enum Course {
    STARTER,
    MAIN
  }

  record Dish(String name, Course course, Optional<Integer> spice) {}

  record Order(
      @ProtoField(1) String id,
      @ProtoField(3) List<Dish> dishes,
      @ProtoField(4) Map<String, Long> extras,
      @ProtoField(5) Instant at,
      @ProtoField(6) Long tip,
      @ProtoField(7) boolean rush) {}

  record Receipt(String orderId, long total) {}

  record Clash(@ProtoField(1) String a, @ProtoField(1) String b) {}

  static final Operation<Order, Receipt> PLACE =
      Operation.of("shop.v1.Orders", "Place", Order.class, Receipt.class);
  static final Operation<Receipt, Receipt> GET =
      Operation.of("shop.v1.Orders", "Get", Receipt.class, Receipt.class);
  static final Operation<Dish, Dish> TASTE =
      Operation.of("kitchen", "Taste", Dish.class, Dish.class);

  @Test
  void theDerivedProtoNamesTheServedMethodsAndPinsNumbers(@TempDir Path dir) throws Exception {
    Map<String, String> files = ProtoSchemas.files(List.of(PLACE, GET, TASTE));
    assertThat(files).containsOnlyKeys("shop.v1.proto", "parley.proto");
    String shop = files.get("shop.v1.proto");
    assertThat(shop)
        .contains("package shop.v1;")
        .contains("import \"google/protobuf/timestamp.proto\";")
        .contains(
            "service Orders {\n  rpc Place(Order) returns (Receipt);\n  rpc Get(Receipt) returns (Receipt);\n}")
        .contains("  repeated Dish dishes = 3;")
        .contains("  map<string, int64> extras = 4;")
        .contains("  google.protobuf.Timestamp at = 5;")
        .contains("  optional int64 tip = 6;")
        .contains("  optional int32 spice = 3;")
        .contains("  COURSE_STARTER = 0;")
        .contains("  int64 total = 2;")
        .contains("  optional string id = 1;")
        .contains("  optional Course course = 2;");
    assertThat(files.get("parley.proto"))
        .contains("service kitchen {\n  rpc Taste(Dish) returns (Dish);\n}");

    ContractTools.requireTool("@bufbuild/buf");
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path module = Files.createDirectories(dir.resolve(f.getKey().replace(".proto", "")));
      Files.writeString(module.resolve(f.getKey()), f.getValue());
      ContractTools.Run build = ContractTools.buf("build", module.toString());
      assertThat(build.exitCode())
          .as(f.getKey() + ":\n" + f.getValue() + "\n" + build.output())
          .isZero();
    }
  }

  /**
   * The text a client compiles and the descriptors on the wire are one model: buf compiles the
   * served text into exactly the descriptors Parley speaks (json names and buf's image extension
   * aside).
   */
  @Test
  void bufCompilesTheTextIntoTheDescriptorsOnTheWire(@TempDir Path dir) throws Exception {
    List<Operation<?, ?>> ops = List.of(PLACE, GET);
    String text = ProtoSchemas.files(ops).get("shop.v1.proto");
    FileDescriptorProto ours = ProtoSchemas.descriptors(ops).get("shop.v1.proto").toProto();

    ContractTools.requireTool("@bufbuild/buf");
    Files.writeString(dir.resolve("shop.v1.proto"), text);
    Path image = dir.resolve("image.binpb");
    ContractTools.Run build =
        ContractTools.buf("build", dir.toString(), "--exclude-source-info", "-o", image.toString());
    assertThat(build.exitCode()).as(build.output()).isZero();
    FileDescriptorProto compiled =
        FileDescriptorSet.parseFrom(Files.readAllBytes(image)).getFileList().stream()
            .filter(f -> f.getName().equals("shop.v1.proto"))
            .findFirst()
            .orElseThrow();

    assertThat(withoutJsonNames(compiled)).isEqualTo(withoutJsonNames(ours));
  }

  private static FileDescriptorProto withoutJsonNames(FileDescriptorProto file) {
    // buf adds its image extension (field 8042: is_import and the like) to every file
    FileDescriptorProto.Builder b =
        file.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance());
    for (DescriptorProto.Builder m : b.getMessageTypeBuilderList()) {
      m.getFieldBuilderList().forEach(FieldDescriptorProto.Builder::clearJsonName);
      for (DescriptorProto.Builder n : m.getNestedTypeBuilderList()) {
        n.getFieldBuilderList().forEach(FieldDescriptorProto.Builder::clearJsonName);
      }
    }
    return b.build();
  }

  @Test
  void aNumberUsedTwiceIsRefused() {
    assertThatThrownBy(
            () -> ProtoSchemas.files(List.of(Operation.of("x", "Y", Clash.class, Clash.class))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Clash.b: field number 1 used twice");
  }
}
