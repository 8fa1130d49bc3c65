package dev.parley.codec.avro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.codec.CodecException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two services on different schema versions share one schema store (as they would a registry): v2
 * adds fields with defaults and drops one that had a default — compatible both ways; v3 adds a
 * field without a default — refused for v1 data with a clear message.
 */
class AvroEvolutionTest {

  private final AvroSchemaStore registry = AvroSchemaStore.inMemory();
  private final AvroCodec oldService = AvroCodec.builder().schemaStore(registry).build();
  private final AvroCodec newService = AvroCodec.builder().schemaStore(registry).build();

  @Test
  void newReaderReadsOldWriter() {
    var written = new dev.parley.codec.avro.evolution.v1.Order("o-1", 3, "LEGACY");

    var read =
        newService.decode(
            oldService.encode(written), dev.parley.codec.avro.evolution.v2.Order.class);

    assertThat(read.getId()).isEqualTo("o-1");
    assertThat(read.getQuantity()).isEqualTo(3);
    assertThat(read.getNote()).isEqualTo("none");
    assertThat(read.getTags()).isEmpty();
  }

  @Test
  void oldReaderReadsNewWriter() {
    var written =
        new dev.parley.codec.avro.evolution.v2.Order("o-2", 5, "no onions", List.of("vip"));

    var read =
        oldService.decode(
            newService.encode(written), dev.parley.codec.avro.evolution.v1.Order.class);

    assertThat(read.getId()).isEqualTo("o-2");
    assertThat(read.getQuantity()).isEqualTo(5);
    assertThat(read.getLegacyCode()).isEmpty();
  }

  @Test
  void incompatibleChangeIsRefusedWithAClearMessage() {
    var written = new dev.parley.codec.avro.evolution.v1.Order("o-3", 1, "");

    assertThatThrownBy(
            () ->
                newService.decode(
                    oldService.encode(written), dev.parley.codec.avro.evolution.v3.Order.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> {
              assertThat(e.errorCode()).isEqualTo(CodecException.INCOMPATIBLE_SCHEMA);
              assertThat(e.getMessage())
                  .contains(
                      "dev.parley.codec.avro.evolution.v1.Order",
                      "dev.parley.codec.avro.evolution.v3.Order",
                      "priority");
            });
  }

  @Test
  void unknownWriterSchemaIsReportedByFingerprint() {
    byte[] bytes =
        AvroCodec.of().encode(new dev.parley.codec.avro.evolution.v1.Order("o-4", 1, ""));

    assertThatThrownBy(
            () -> AvroCodec.of().decode(bytes, dev.parley.codec.avro.evolution.v2.Order.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> {
              assertThat(e.errorCode()).isEqualTo(CodecException.UNKNOWN_SCHEMA);
              assertThat(e.getMessage())
                  .contains(
                      String.format(
                          "%016x",
                          AvroSchemaStore.fingerprint(
                              dev.parley.codec.avro.evolution.v1.Order.getClassSchema())));
            });
  }
}
