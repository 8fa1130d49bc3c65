package dev.parley.rpc.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.codec.Codecs;
import dev.parley.codec.json.JsonCodec;
import dev.parley.messaging.Channel;
import dev.parley.operation.Operation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's {@code parley check} cases on the model contract: each breaking change the issue names
 * is caught, the compatible ones pass. Versions are built from the same model a service runs on.
 */
class ContractCheckTest {

  enum Kind {
    DINE_IN,
    TAKEAWAY
  }

  enum KindWithout {
    DINE_IN
  }

  record Order(String id, int items, String note, Kind kind) {}

  record OrderWithoutNote(String id, int items, Kind kind) {}

  record OrderItemsAsText(String id, String items, String note, Kind kind) {}

  record OrderFewerKinds(String id, int items, String note, KindWithout kind) {}

  record OrderWithComment(String id, int items, String note, Kind kind, String comment) {}

  record OrderWithRequiredCount(String id, int items, String note, Kind kind, int count) {}

  record Receipt(String orderId, long total) {}

  record OtherReceipt(String orderId, String total) {}

  record Cooked(String orderId) {}

  private static final Operation<Order, Receipt> PLACE =
      Operation.of("shop", "Place", Order.class, Receipt.class)
          .withHttp("POST", "/orders")
          .withErrorCodes("shop.out_of_stock", "shop.closed");

  private static final Operation<Receipt, Receipt> GET =
      Operation.of("shop", "Get", Receipt.class, Receipt.class)
          .withIdempotent(true)
          .withHttp("GET", "/orders/{orderId}");

  private static JsonNode openApi(Operation<?, ?>... ops) {
    return OpenApi.builder("shop", "1")
        .operations(List.of(ops))
        .codecs(Codecs.of(JsonCodec.of()))
        .toTree();
  }

  private static <I> Operation<I, Receipt> place(Class<I> input) {
    return Operation.of("shop", "Place", input, Receipt.class)
        .withHttp("POST", "/orders")
        .withErrorCodes("shop.out_of_stock", "shop.closed");
  }

  private static List<String> check(JsonNode newer) {
    return ContractCheck.openApi(openApi(PLACE, GET), newer, ContractCheck.Mode.FULL);
  }

  @Test
  void theBaselineIsCompatibleWithItself() {
    assertThat(check(openApi(PLACE, GET))).isEmpty();
  }

  @Test
  void eachBreakingChangeOfAnOperationIsCaught() {
    assertThat(check(openApi(place(OrderWithoutNote.class), GET)))
        .containsExactly("shop.Place request: field note removed");
    assertThat(check(openApi(place(OrderItemsAsText.class), GET)))
        .containsExactly("shop.Place request.items: type changed from integer/int32 to string");
    assertThat(check(openApi(place(OrderFewerKinds.class), GET)))
        .containsExactly("shop.Place request.kind: enum value TAKEAWAY removed");
    assertThat(check(openApi(PLACE)))
        .as("removed method")
        .containsExactly("shop.Get: operation removed");
    assertThat(
            check(
                openApi(
                    Operation.of("shop", "Place", Order.class, OtherReceipt.class)
                        .withHttp("POST", "/orders")
                        .withErrorCodes("shop.out_of_stock", "shop.closed"),
                    GET)))
        .as("changed method types")
        .containsExactly("shop.Place response.total: type changed from integer/int64 to string");
    assertThat(check(openApi(PLACE.withHttp("PUT", "/orders"), GET)))
        .as("changed route")
        .containsExactly("shop.Place: route changed from POST /orders to PUT /orders");
    assertThat(
            check(
                openApi(
                    Operation.of("shop", "Place", Order.class, Receipt.class)
                        .withHttp("POST", "/orders")
                        .withErrorCodes("shop.out_of_stock"),
                    GET)))
        .containsExactly("shop.Place: error code shop.closed removed");
    assertThat(check(openApi(place(OrderWithRequiredCount.class), GET)))
        .as("a new required request field breaks old clients")
        .containsExactly("shop.Place request: new required field count");
  }

  @Test
  void compatibleChangesPass() {
    assertThat(check(openApi(place(OrderWithComment.class), GET)))
        .as("new optional field")
        .isEmpty();
    assertThat(
            check(
                openApi(PLACE, GET, Operation.of("shop", "Cancel", Receipt.class, Receipt.class))))
        .as("new method")
        .isEmpty();
    assertThat(check(openApi(PLACE.withErrorCodes("shop.busy"), GET)))
        .as("new error code")
        .isEmpty();
  }

  @Test
  void modesDecideWhoMustKeepWorking() {
    JsonNode newer = openApi(place(OrderWithRequiredCount.class), GET);
    assertThat(ContractCheck.openApi(openApi(PLACE, GET), newer, ContractCheck.Mode.BACKWARD))
        .hasSize(1);
    assertThat(ContractCheck.openApi(openApi(PLACE, GET), newer, ContractCheck.Mode.FORWARD))
        .as("old servers ignore a field new clients add")
        .isEmpty();
  }

  private static JsonNode asyncApi(AsyncApi api) {
    return api.toTree();
  }

  @Test
  void channelsAreCheckedToo() {
    Channel<Cooked> cooked = Channel.event("shop.cooked", Cooked.class);
    Channel<Order> commands = Channel.command("shop.commands", Order.class);
    JsonNode base =
        asyncApi(
            AsyncApi.builder("shop", "1")
                .event(cooked, "shop", "billing")
                .command(commands, "shop"));

    assertThat(ContractCheck.asyncApi(base, base, ContractCheck.Mode.FULL)).isEmpty();
    assertThat(
            ContractCheck.asyncApi(
                base,
                asyncApi(AsyncApi.builder("shop", "1").event(cooked, "shop", "billing")),
                ContractCheck.Mode.FULL))
        .as("removed channel")
        .contains("channel shop.commands: removed", "operation shop.handle.shop.commands: removed");
    assertThat(
            ContractCheck.asyncApi(
                base,
                asyncApi(
                    AsyncApi.builder("shop", "1")
                        .event(cooked, "shop", "billing")
                        .command(Channel.command("shop.commands", OrderWithoutNote.class), "shop")),
                ContractCheck.Mode.FULL))
        .contains("channel shop.commands message: field note removed");
    assertThat(
            ContractCheck.asyncApi(
                base,
                asyncApi(
                    AsyncApi.builder("shop", "1")
                        .event(cooked, "shop", "billing", "audit")
                        .command(commands, "shop")
                        .event(Channel.event("shop.opened", Cooked.class), "shop")),
                ContractCheck.Mode.FULL))
        .as("new group and new channel")
        .isEmpty();
  }

  @Test
  void theCommandLineComparesDirectoriesWithExitCodes(@TempDir Path dir) throws Exception {
    ObjectMapper json = new ObjectMapper();
    Path baseline = Files.createDirectories(dir.resolve("baseline"));
    Path current = Files.createDirectories(dir.resolve("current"));
    json.writeValue(baseline.resolve("shop-openapi.json").toFile(), openApi(PLACE, GET));
    json.writeValue(current.resolve("shop-openapi.json").toFile(), openApi(PLACE, GET));
    assertThat(run(baseline, current)).isZero();
    json.writeValue(current.resolve("shop-openapi.json").toFile(), openApi(PLACE));
    assertThat(run(baseline, current)).isEqualTo(1);
    assertThat(
            ContractCheck.run(
                new String[] {"only-one"}, new PrintStream(new ByteArrayOutputStream())))
        .isEqualTo(2);
  }

  private static int run(Path baseline, Path current) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        ContractCheck.run(
            new String[] {"--mode", "full", baseline.toString(), current.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8));
    System.out.print(out.toString(StandardCharsets.UTF_8));
    return code;
  }
}
