package dev.parley.codec.protobuf;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import dev.parley.codec.protobuf.fixtures.Collections;
import dev.parley.codec.protobuf.fixtures.Line;
import dev.parley.codec.protobuf.fixtures.Medium;
import dev.parley.codec.protobuf.fixtures.Node;
import dev.parley.codec.protobuf.fixtures.Small;
import dev.parley.codec.protobuf.fixtures.Text;
import dev.parley.codec.protobuf.fixtures.Timestamps;
import dev.parley.codec.protobuf.fixtures.WithOptional;
import dev.parley.testing.tck.CodecTck;

/** The TCK fixture set in protobuf types, shaped like the plain-Java one. */
public final class ProtobufFixtures {

  private ProtobufFixtures() {}

  public static CodecTck.Fixtures all() {
    Medium.Builder medium =
        Medium.newBuilder()
            .setOrderId("o-2")
            .setCustomer("Grace Hopper")
            .setAddress("1 Navy Way, Arlington, VA")
            .setNotes("leave at the door; ring twice");
    for (int i = 0; i < 8; i++) {
      medium.addLines(
          Line.newBuilder()
              .setSku("SKU-" + (1000 + i))
              .setDescription("item number " + i + " with a longer description")
              .setQuantity(i + 1)
              .setUnitCents(199L * (i + 1)));
    }
    return new CodecTck.Fixtures(
        Small.newBuilder()
            .setId("o-1")
            .setName("Ada Lovelace")
            .setQuantity(2)
            .setAmountCents(4250)
            .setExpress(true)
            .build(),
        medium.build(),
        Node.newBuilder()
            .setName("root")
            .addChildren(
                Node.newBuilder().setName("a").addChildren(Node.newBuilder().setName("a1")))
            .addChildren(Node.newBuilder().setName("b"))
            .build(),
        Collections.newBuilder()
            .addTags("spicy")
            .addTags("vegan")
            .addTags("spicy")
            .addCodes(1)
            .addCodes(2)
            .addCodes(3)
            .putCounts("apples", 3)
            .putCounts("pears", 5)
            .build(),
        WithOptional.newBuilder().setId("o-3").build(),
        Timestamps.newBuilder()
            .setPlacedAt(Timestamp.newBuilder().setSeconds(1_795_601_730L).setNanos(123_000_000))
            .setDeliveryDay("2026-11-25")
            .setPreparation(Duration.newBuilder().setSeconds(42 * 60))
            .build(),
        Text.newBuilder().setId("o-4").setText("Grüße, 你好, مرحبا, שלום, e\u0301, 🚀🍛").build());
  }

  static Node chain(int depth) {
    Node node = Node.newBuilder().setName("leaf").build();
    for (int i = 0; i < depth; i++) {
      node = Node.newBuilder().setName("n" + i).addChildren(node).build();
    }
    return node;
  }

  /** A Text message whose text field holds the bytes C3 28 (not UTF-8). */
  static byte[] textWithInvalidUtf8() {
    return new byte[] {0x0a, 0x01, 'x', 0x12, 0x02, (byte) 0xC3, 0x28};
  }
}
