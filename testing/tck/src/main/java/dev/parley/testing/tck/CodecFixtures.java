package dev.parley.testing.tck;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Plain Java fixtures for codecs of plain classes (JSON, XML): records, collections, {@code
 * Optional}, {@code java.time}. Schema-first codecs (Protobuf, Avro, Thrift) bring their own
 * fixtures generated from their schemas, shaped alike.
 */
public final class CodecFixtures {

  public record Small(String id, String name, int quantity, long amountCents, boolean express) {}

  public record Line(String sku, String description, int quantity, long unitCents) {}

  public record Medium(
      String orderId, String customer, String address, List<Line> lines, String notes) {}

  public record Node(String name, List<Node> children) {}

  public record Collections(List<String> tags, Set<Integer> codes, Map<String, Long> counts) {}

  public record WithOptional(String id, Optional<String> coupon, Optional<Integer> tip) {}

  public record Timestamps(Instant placedAt, LocalDate deliveryDay, Duration preparation) {}

  public record Text(String id, String text) {}

  private CodecFixtures() {}

  /** The fixture set for codecs of plain Java classes. */
  public static CodecTck.Fixtures plainJava() {
    List<Line> lines = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      lines.add(
          new Line(
              "SKU-" + (1000 + i),
              "item number " + i + " with a longer description",
              i + 1,
              199L * (i + 1)));
    }
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("apples", 3L);
    counts.put("pears", 5L);
    return new CodecTck.Fixtures(
        new Small("o-1", "Ada Lovelace", 2, 4_250L, true),
        new Medium(
            "o-2",
            "Grace Hopper",
            "1 Navy Way, Arlington, VA",
            lines,
            "leave at the door; ring twice"),
        new Node(
            "root",
            List.of(new Node("a", List.of(new Node("a1", List.of()))), new Node("b", List.of()))),
        new Collections(
            List.of("spicy", "vegan", "spicy"), new LinkedHashSet<>(List.of(1, 2, 3)), counts),
        new WithOptional("o-3", Optional.empty(), Optional.empty()),
        new Timestamps(
            Instant.parse("2026-11-24T10:15:30.123Z"),
            LocalDate.parse("2026-11-25"),
            Duration.ofMinutes(42)),
        new Text("o-4", "Grüße, 你好, مرحبا, שלום, e\u0301, 🚀🍛"));
  }

  /** {@code depth} nested nodes. */
  public static Node chain(int depth) {
    Node node = new Node("leaf", List.of());
    for (int i = 0; i < depth; i++) {
      node = new Node("n" + i, List.of(node));
    }
    return node;
  }
}
