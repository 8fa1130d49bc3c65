package dev.parley.codec.protobuf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.codec.protobuf.evolution.OrderV1;
import dev.parley.codec.protobuf.evolution.OrderV2;
import org.junit.jupiter.api.Test;

/** Compatible changes round-trip both ways: new writer → old reader, old writer → new reader. */
class ProtobufEvolutionTest {

  private final ProtobufCodec binary = ProtobufCodec.of();
  private final ProtobufJsonCodec json = ProtobufJsonCodec.of();

  @Test
  void oldReaderReadsNewWriterAndPassesNewFieldsThrough() {
    OrderV2 written =
        OrderV2.newBuilder()
            .setId("o-1")
            .setQuantity(3)
            .setNote("no onions")
            .addTags("vip")
            .build();

    OrderV1 read = binary.decode(binary.encode(written), OrderV1.class);
    OrderV2 forwarded = binary.decode(binary.encode(read), OrderV2.class);

    assertThat(read.getId()).isEqualTo("o-1");
    assertThat(read.getQuantity()).isEqualTo(3);
    assertThat(forwarded).isEqualTo(written);
  }

  @Test
  void newReaderReadsOldWriterWithDefaultsForAddedFields() {
    OrderV1 written = OrderV1.newBuilder().setId("o-2").setQuantity(5).setLegacyCode("X9").build();

    OrderV2 read = binary.decode(binary.encode(written), OrderV2.class);

    assertThat(read.getId()).isEqualTo("o-2");
    assertThat(read.getQuantity()).isEqualTo(5);
    assertThat(read.getNote()).isEmpty();
    assertThat(read.getTagsList()).isEmpty();
  }

  @Test
  void jsonMappingEvolvesByFieldNameBothWays() {
    OrderV2 v2 = OrderV2.newBuilder().setId("o-3").setQuantity(1).setNote("extra napkins").build();
    OrderV1 v1 = OrderV1.newBuilder().setId("o-4").setQuantity(2).setLegacyCode("L").build();

    OrderV1 oldReadsNew = json.decode(json.encode(v2), OrderV1.class);
    OrderV2 newReadsOld = json.decode(json.encode(v1), OrderV2.class);

    assertThat(oldReadsNew.getId()).isEqualTo("o-3");
    assertThat(newReadsOld.getId()).isEqualTo("o-4");
    assertThat(newReadsOld.getQuantity()).isEqualTo(2);
  }
}
