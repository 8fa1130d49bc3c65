package dev.parley.codec.avro;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.avro.AvroCompatibility.Mode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AvroCompatibilityTest {

  private static final Schema V1 = dev.parley.codec.avro.evolution.v1.Order.getClassSchema();
  private static final Schema V2 = dev.parley.codec.avro.evolution.v2.Order.getClassSchema();
  private static final Schema V3 = dev.parley.codec.avro.evolution.v3.Order.getClassSchema();

  @Test
  void defaultedFieldsAddedAndRemovedAreFullyCompatible() {
    assertThat(AvroCompatibility.check(V1, V2, Mode.FULL)).isEmpty();
  }

  @Test
  void newFieldWithoutDefaultIsForwardButNotBackwardCompatible() {
    assertThat(AvroCompatibility.check(V1, V3, Mode.FORWARD)).isEmpty();
    assertThat(AvroCompatibility.check(V1, V3, Mode.BACKWARD))
        .singleElement()
        .asString()
        .startsWith("backward (new reads old)")
        .contains("reader field missing default value", "priority");
    assertThat(AvroCompatibility.check(V1, V3, Mode.FULL)).hasSize(1);
  }

  @Test
  void namesTheFieldWhoseTypeChanged() {
    Schema widened =
        new Schema.Parser()
            .parse(
                V1.toString()
                    .replace("\"quantity\",\"type\":\"int\"", "\"quantity\",\"type\":\"long\""));

    assertThat(AvroCompatibility.check(V1, widened, Mode.FORWARD))
        .singleElement()
        .asString()
        .contains("type mismatch", "field quantity");
  }

  @Test
  void commandLineReadsSchemaFiles(@TempDir Path dir) throws Exception {
    Path v1 = Files.writeString(dir.resolve("v1.avsc"), V1.toString());
    Path v3 =
        Files.writeString(
            dir.resolve("v3.avsc"), V3.toString().replace("evolution.v3", "evolution.v1"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);

    assertThat(
            AvroCompatibility.run(
                new String[] {"--mode", "backward", v1.toString(), v1.toString()}, print))
        .isZero();
    assertThat(
            AvroCompatibility.run(
                new String[] {"--mode", "backward", v1.toString(), v3.toString()}, print))
        .isEqualTo(1);
    assertThat(
            AvroCompatibility.run(
                new String[] {"--mode", "sideways", v1.toString(), v3.toString()}, print))
        .isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("compatible (backward)", "priority", "incompatible");
  }
}
