package dev.parley.codec.protobuf;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import dev.parley.codec.protobuf.evolution.OrderV1;
import dev.parley.codec.protobuf.evolution.OrderV2;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProtobufCompatibilityTest {

  private final DescriptorProto v1 =
      OrderV1.getDescriptor().toProto().toBuilder().setName("Order").build();
  private final DescriptorProto v2 =
      OrderV2.getDescriptor().toProto().toBuilder().setName("Order").build();

  @Test
  void addingFieldsAndRetiringOneWithReservationIsCompatible() {
    assertThat(ProtobufCompatibility.check("Order", v1, v2)).isEmpty();
  }

  @Test
  void removingAFieldWithoutReservingItIsNot() {
    DescriptorProto removed = v1.toBuilder().removeField(2).build();

    assertThat(ProtobufCompatibility.check("Order", v1, removed))
        .containsExactly("Order.legacy_code = 3: removed without reserving its number and name");
  }

  @Test
  void renumberedRetypedAndRepeatedFieldsAreReported() {
    DescriptorProto changed =
        v1.toBuilder()
            .setField(0, field(v1, 0).setNumber(9))
            .setField(1, field(v1, 1).setType(FieldDescriptorProto.Type.TYPE_STRING))
            .setField(2, field(v1, 2).setLabel(FieldDescriptorProto.Label.LABEL_REPEATED))
            .build();

    assertThat(ProtobufCompatibility.check("Order", v1, changed))
        .anyMatch(p -> p.startsWith("Order.id = 1: renumbered to 9"))
        .anyMatch(p -> p.startsWith("Order.quantity = 2: retyped from int32 to string"))
        .anyMatch(
            p -> p.startsWith("Order.legacy_code = 3: changed between singular and repeated"));
  }

  @Test
  void reusingAReservedNumberIsReported() {
    DescriptorProto reused =
        v2.toBuilder()
            .addField(
                FieldDescriptorProto.newBuilder()
                    .setName("code")
                    .setNumber(3)
                    .setType(FieldDescriptorProto.Type.TYPE_INT64))
            .build();

    assertThat(ProtobufCompatibility.check("Order", v2, reused))
        .containsExactly("Order.code = 3: reuses a number the old version reserved");
  }

  @Test
  void commandLineChecksDescriptorSetFiles(@TempDir Path dir) throws Exception {
    Path oldSet = write(dir.resolve("old.desc"), v1);
    Path newSet = write(dir.resolve("new.desc"), v1.toBuilder().removeField(2).build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int compatible =
        ProtobufCompatibility.run(
            new String[] {oldSet.toString(), oldSet.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8));
    int incompatible =
        ProtobufCompatibility.run(
            new String[] {oldSet.toString(), newSet.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(compatible).isZero();
    assertThat(incompatible).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("compatible", "legacy_code = 3: removed", "1 incompatible change(s)");
  }

  private static FieldDescriptorProto.Builder field(DescriptorProto message, int index) {
    return message.getField(index).toBuilder();
  }

  private static Path write(Path file, DescriptorProto message) throws Exception {
    FileDescriptorSet set =
        FileDescriptorSet.newBuilder()
            .addFile(
                FileDescriptorProto.newBuilder()
                    .setName("order.proto")
                    .setPackage("shop")
                    .addMessageType(message))
            .build();
    Files.write(file, set.toByteArray());
    return file;
  }
}
