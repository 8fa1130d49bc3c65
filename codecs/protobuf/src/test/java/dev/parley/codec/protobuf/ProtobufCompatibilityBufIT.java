package dev.parley.codec.protobuf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.testing.kit.ContractTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: Parley's Protobuf compatibility gate agrees with a reference implementation of
 * breaking-change detection — {@code buf breaking} with its WIRE_JSON rules plus RPC_NO_DELETE and
 * SERVICE_NO_DELETE (WIRE_JSON alone does not see a removed method; npm {@code
 * @bufbuild/buf}, installed by {@code .ci/contracts-setup}) — on every case the issue names. Both
 * read the same descriptor sets, which buf itself compiles from the {@code .proto} text. Skipped
 * only where npm's install of buf is absent (the skip says so).
 */
class ProtobufCompatibilityBufIT {

  private static final String BASE =
      """
      syntax = "proto3";
      package shop.v1;
      enum Kind { KIND_UNSPECIFIED = 0; KIND_DINE_IN = 1; KIND_TAKEAWAY = 2; }
      message Order {
        string id = 1;
        int32 quantity = 2;
        string note = 3;
        Kind kind = 4;
        oneof payment { string card = 5; string voucher = 6; }
      }
      message OrderId { string id = 1; }
      service Orders {
        rpc Place(Order) returns (OrderId);
        rpc Get(OrderId) returns (Order);
      }
      """;

  @TempDir static Path dir;

  @BeforeAll
  static void needsBuf() {
    ContractTools.requireTool("@bufbuild/buf");
  }

  /** The cases: the new version's text, and whether it breaks compatibility. */
  private static Map<String, Object[]> cases() {
    Map<String, Object[]> c = new LinkedHashMap<>();
    c.put("removed field", new Object[] {BASE.replace("  string note = 3;\n", ""), true});
    c.put("renumbered field", new Object[] {BASE.replace("note = 3", "note = 7"), true});
    c.put("type change", new Object[] {BASE.replace("int32 quantity", "string quantity"), true});
    c.put("removed enum value", new Object[] {BASE.replace(" KIND_TAKEAWAY = 2;", ""), true});
    c.put(
        "field moved into a oneof",
        new Object[] {
          BASE.replace("  string note = 3;\n", "")
              .replace("string voucher = 6;", "string voucher = 6; string note = 3;"),
          true
        });
    c.put(
        "removed method",
        new Object[] {BASE.replace("  rpc Get(OrderId) returns (Order);\n", ""), true});
    c.put(
        "changed method types",
        new Object[] {
          BASE.replace("rpc Get(OrderId) returns (Order)", "rpc Get(Order) returns (Order)"), true
        });
    c.put(
        "new optional field",
        new Object[] {
          BASE.replace("Kind kind = 4;", "Kind kind = 4;\n  optional string comment = 8;"), false
        });
    c.put(
        "new method",
        new Object[] {
          BASE.replace(
              "rpc Get(OrderId) returns (Order);",
              "rpc Get(OrderId) returns (Order);\n  rpc Cancel(OrderId) returns (OrderId);"),
          false
        });
    c.put(
        "field retired with its number and name reserved",
        new Object[] {
          BASE.replace("  string note = 3;\n", "  reserved 3;\n  reserved \"note\";\n"), false
        });
    return c;
  }

  @Test
  void parleyAndBufAgreeOnEveryCase() throws Exception {
    Path base = image("base", BASE);
    List<String> disagreements = new ArrayList<>();
    for (Map.Entry<String, Object[]> c : cases().entrySet()) {
      String name = c.getKey();
      String text = (String) c.getValue()[0];
      boolean breaking = (Boolean) c.getValue()[1];
      assertThat(text).as(name + ": the case changes the base").isNotEqualTo(BASE);
      Path module = module(name.replace(' ', '-'), text);
      Path image = image(name.replace(' ', '-'), text);

      List<String> parley =
          ProtobufCompatibility.check(
              ProtobufCompatibility.read(base), ProtobufCompatibility.read(image));
      ContractTools.Run bufRun =
          ContractTools.buf(
              "breaking",
              module.toString(),
              "--against",
              base.toString(),
              "--config",
              "{\"version\":\"v2\",\"breaking\":{\"use\":[\"WIRE_JSON\",\"RPC_NO_DELETE\",\"SERVICE_NO_DELETE\"]}}");
      String bufSays = bufRun.output();
      boolean bufBreaking = bufRun.exitCode() != 0;
      System.out.printf(
          "%-50s parley %s %s | buf %s %s%n",
          name, !parley.isEmpty(), parley, bufBreaking, bufSays.trim().replace('\n', ' '));

      assertThat(!parley.isEmpty()).as(name + ": Parley says " + parley).isEqualTo(breaking);
      if (bufBreaking != breaking) {
        disagreements.add(name + ": buf says " + bufSays);
      }
    }
    assertThat(disagreements).as("cases where buf disagrees").isEmpty();
  }

  private static Path module(String name, String text) throws Exception {
    Path module = dir.resolve(name);
    Files.createDirectories(module);
    Files.writeString(module.resolve("shop.proto"), text);
    return module;
  }

  /** A descriptor set (buf's image is one on the wire) compiled by buf from {@code text}. */
  private static Path image(String name, String text) throws Exception {
    Path module = module(name, text);
    Path out = dir.resolve(name + ".binpb");
    ContractTools.Run build = ContractTools.buf("build", module.toString(), "-o", out.toString());
    assertThat(build.exitCode()).as(name + ": buf build: " + build.output()).isZero();
    return out;
  }
}
