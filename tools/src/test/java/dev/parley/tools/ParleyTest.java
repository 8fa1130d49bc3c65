package dev.parley.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import dev.parley.messaging.Channel;
import dev.parley.operation.Operation;
import dev.parley.rpc.contract.AsyncApi;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code parley} command end to end: {@code contracts} writes the documents of a model class,
 * {@code check} gates a new version of the model against them — the model rules, Protobuf's and
 * Avro's in one run, with CI exit codes.
 */
class ParleyTest {

  /** The published model. */
  public static final class V1 {
    public record Order(String id, int quantity, String note) {}

    public record Receipt(String orderId, long total) {}

    public record Shipped(String orderId, String carrier) {}

    public static final Operation<Order, Receipt> PLACE =
        Operation.of("shop.v1.Orders", "Place", Order.class, Receipt.class)
            .withHttp("POST", "/orders");
    public static final Operation<Receipt, Receipt> GET =
        Operation.of("shop.v1.Orders", "Get", Receipt.class, Receipt.class);
    public static final Channel<Shipped> SHIPPED = Channel.event("shop.shipped", Shipped.class);
    public static final Channel<Shipped> AUDIT = Channel.event("shop.audit", Shipped.class);

    public static List<Operation<?, ?>> operations() {
      return List.of(PLACE, GET);
    }

    public static AsyncApi asyncApi() {
      return AsyncApi.builder("Shop", "1").event(SHIPPED, "shop", "mail").event(AUDIT, "shop");
    }
  }

  /** Breaks it: a field removed, a method removed, a route changed, a channel removed. */
  public static final class Breaking {
    public record Order(String id, String note) {}

    public record Receipt(String orderId, long total) {}

    public record Shipped(String orderId, String carrier) {}

    public static List<Operation<?, ?>> operations() {
      return List.of(
          Operation.of("shop.v1.Orders", "Place", Order.class, Receipt.class)
              .withHttp("POST", "/v2/orders"));
    }

    public static AsyncApi asyncApi() {
      return AsyncApi.builder("Shop", "1")
          .event(Channel.event("shop.shipped", Shipped.class), "shop", "mail");
    }
  }

  /** Grows it compatibly: a new optional field, a new method, a new channel. */
  public static final class Compatible {
    public record Order(String id, int quantity, String note, Integer tip) {}

    public record Receipt(String orderId, long total) {}

    public record Shipped(String orderId, String carrier) {}

    public static List<Operation<?, ?>> operations() {
      return List.of(
          Operation.of("shop.v1.Orders", "Place", Order.class, Receipt.class)
              .withHttp("POST", "/orders"),
          Operation.of("shop.v1.Orders", "Get", Receipt.class, Receipt.class),
          Operation.of("shop.v1.Orders", "Cancel", Receipt.class, Receipt.class));
    }

    public static AsyncApi asyncApi() {
      return AsyncApi.builder("Shop", "1")
          .event(Channel.event("shop.shipped", Shipped.class), "shop", "mail")
          .event(Channel.event("shop.audit", Shipped.class), "shop")
          .event(Channel.event("shop.returned", Shipped.class), "shop");
    }
  }

  record Result(int code, String output) {}

  static Result parley(String... args) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    int code = Parley.run(args, new PrintStream(buffer, true, StandardCharsets.UTF_8));
    return new Result(code, buffer.toString(StandardCharsets.UTF_8));
  }

  static Path contracts(Class<?> model, Path dir) {
    Result r =
        parley("contracts", "--model", model.getName(), "--name", "shop", "--out", dir.toString());
    assertThat(r.code()).as(r.output()).isZero();
    return dir;
  }

  @Test
  void contractsWritesTheDocumentsTheProtoAndItsDescriptorSet(@TempDir Path dir) throws Exception {
    contracts(V1.class, dir);

    assertThat(dir.resolve("shop-openapi.json")).content().contains("\"/orders\"");
    assertThat(dir.resolve("shop-asyncapi.json")).content().contains("shop.shipped");
    assertThat(dir.resolve("proto/shop.v1.proto"))
        .content()
        .contains("service Orders {\n  rpc Place(Order) returns (Receipt);");
    FileDescriptorSet set =
        FileDescriptorSet.parseFrom(Files.readAllBytes(dir.resolve("shop-proto.binpb")));
    assertThat(set.getFileList()).extracting(f -> f.getName()).containsExactly("shop.v1.proto");
  }

  @Test
  void checkCatchesBreakingChangesInEveryKindOfContract(@TempDir Path dir) {
    Path baseline = contracts(V1.class, dir.resolve("baseline"));
    Path current = contracts(Breaking.class, dir.resolve("current"));

    Result r = parley("check", baseline.toString(), current.toString());

    assertThat(r.code()).as(r.output()).isEqualTo(1);
    // without @ProtoField the removed component renumbers the one after it: note (3) becomes 2
    assertThat(r.output())
        .contains("shop-proto.binpb: shop.v1.Order.note = 3: renumbered to 2")
        .contains("shop-proto.binpb: shop.v1.Order.quantity = 2: retyped from int32 to string")
        .contains("shop-proto.binpb: shop.v1.Orders/Get: method removed")
        .contains("shop-openapi.json: shop.v1.Orders.Get: operation removed")
        .contains("shop-openapi.json: shop.v1.Orders.Place request: field quantity removed")
        .contains(
            "shop-openapi.json: shop.v1.Orders.Place: route changed from POST /orders to POST"
                + " /v2/orders")
        .contains("shop-asyncapi.json: channel shop.audit: removed");
  }

  @Test
  void checkPassesCompatibleGrowth(@TempDir Path dir) {
    Path baseline = contracts(V1.class, dir.resolve("baseline"));
    Path current = contracts(Compatible.class, dir.resolve("current"));

    Result r = parley("check", "--mode", "full", baseline.toString(), current.toString());

    assertThat(r.code()).as(r.output()).isZero();
    assertThat(r.output()).contains("compatible (full), 3 contract(s)");
  }

  @Test
  void checkReadsAvroSchemasInTheMode(@TempDir Path dir) throws Exception {
    Path old = Files.createDirectories(dir.resolve("old"));
    Path now = Files.createDirectories(dir.resolve("new"));
    Files.writeString(
        old.resolve("ticket.avsc"),
        "{\"type\":\"record\",\"name\":\"Ticket\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}");
    // a new field without a default: new readers cannot read old data
    Files.writeString(
        now.resolve("ticket.avsc"),
        "{\"type\":\"record\",\"name\":\"Ticket\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},"
            + "{\"name\":\"items\",\"type\":\"int\"}]}");

    Result backward = parley("check", "--mode", "backward", old.toString(), now.toString());
    Result forward = parley("check", "--mode", "forward", old.toString(), now.toString());

    assertThat(backward.code()).as(backward.output()).isEqualTo(1);
    assertThat(backward.output()).contains("ticket.avsc: backward");
    assertThat(forward.code()).as(forward.output()).isZero();
  }

  @Test
  void aMissingContractOrBadUseSaysSo(@TempDir Path dir) throws Exception {
    Path baseline = contracts(V1.class, dir.resolve("baseline"));
    Path current = contracts(V1.class, dir.resolve("current"));
    Files.delete(current.resolve("shop-asyncapi.json"));

    Result missing = parley("check", baseline.toString(), current.toString());
    Result noArgs = parley("check", baseline.toString());
    Result noModel = parley("contracts", "--model", "no.such.Model", "--out", dir.toString());

    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.output()).contains("shop-asyncapi.json: missing (the baseline has it)");
    assertThat(noArgs.code()).isEqualTo(2);
    assertThat(noModel.code()).isEqualTo(2);
    assertThat(noModel.output()).contains("no class no.such.Model");
  }
}
