package dev.parley.transport.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.message.Headers;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeliveryTest {

  private static final Destination SOURCE = new Destination.Queue("orders");

  @Test
  void readsAMessageWithinTheLimits() {
    Delivery d =
        Delivery.fromWire(
            Map.of(Headers.ID, "m-1", Headers.CONTENT_TYPE, "application/json"),
            new byte[] {1, 2},
            SOURCE,
            0);

    assertThat(d.isReadable()).isTrue();
    assertThat(d.message().id()).isEqualTo("m-1");
    assertThat(d.deliveryCount()).isEqualTo(1);
  }

  @Test
  void keepsThePayloadAndEveryAcceptableHeaderOfAnUnreadableMessage() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(Headers.ID, "i".repeat(10_240));
    headers.put(Headers.CONTENT_TYPE, "application/json");
    headers.put(" ", "blank name");
    headers.put("trace", "kept");

    Delivery d = Delivery.fromWire(headers, new byte[] {7, 8, 9}, SOURCE, 2);

    assertThat(d.isReadable()).isFalse();
    assertThat(d.unreadable().errorCode()).isEqualTo("parley.header.invalid");
    assertThat(d.message().payload()).containsExactly(7, 8, 9);
    assertThat(d.message().headers())
        .containsEntry(Headers.CONTENT_TYPE, "application/json")
        .containsEntry("trace", "kept")
        .doesNotContainKey(" ");
    assertThat(d.message().id()).hasSize(36); // a new id: the sent one was not acceptable
    assertThat(d.deliveryCount()).isEqualTo(2);
  }

  @Test
  void leavesRoomForTheDeadLetterHeaders() {
    Map<String, String> many = new LinkedHashMap<>();
    for (int i = 0; i < 200; i++) {
      many.put("h" + i, "v");
    }

    Delivery d = Delivery.fromWire(many, new byte[0], SOURCE, 1);

    assertThat(d.isReadable()).isFalse();
    assertThat(d.message().headers().size()).isLessThanOrEqualTo(85);
  }
}
