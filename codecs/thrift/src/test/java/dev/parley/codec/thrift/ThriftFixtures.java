package dev.parley.codec.thrift;

import dev.parley.codec.thrift.fixtures.Collections;
import dev.parley.codec.thrift.fixtures.Line;
import dev.parley.codec.thrift.fixtures.Medium;
import dev.parley.codec.thrift.fixtures.Node;
import dev.parley.codec.thrift.fixtures.Small;
import dev.parley.codec.thrift.fixtures.Text;
import dev.parley.codec.thrift.fixtures.Timestamps;
import dev.parley.codec.thrift.fixtures.WithOptional;
import dev.parley.testing.tck.CodecTck;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** The TCK fixture set in Thrift structs generated from {@code src/test/thrift/fixtures.thrift}. */
public final class ThriftFixtures {

  private ThriftFixtures() {}

  public static CodecTck.Fixtures all() {
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
        new Small("o-1", "Ada Lovelace", 2, 4250L, true),
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
        new WithOptional().setId("o-3"),
        new Timestamps(
            Instant.parse("2026-11-24T10:15:30.123Z").toEpochMilli(), "2026-11-25", 42L * 60_000),
        new Text("o-4", "Grüße, 你好, مرحبا, שלום, e\u0301, 🚀🍛"));
  }

  static Node chain(int depth) {
    Node node = new Node("leaf", List.of());
    for (int i = 0; i < depth; i++) {
      node = new Node("n" + i, List.of(node));
    }
    return node;
  }
}
