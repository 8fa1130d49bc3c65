package dev.parley.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import org.junit.jupiter.api.Test;

class MessageTest {

  @Test
  void generatesTimeOrderedIdAndCarriesItAsHeader() {
    Message message = Message.builder().header(Headers.TYPE, "t").build();

    assertThat(message.headers()).containsEntry(Headers.ID, message.id());
    assertThat(java.util.UUID.fromString(message.id()).version()).isEqualTo(7);
  }

  @Test
  void copiesPayloadInAndOut() {
    byte[] bytes = {1, 2, 3};
    Message message = Message.builder().payload(bytes).build();

    bytes[0] = 9;
    message.payload()[1] = 9;

    assertThat(message.payload()).containsExactly(1, 2, 3);
  }

  @Test
  void payloadViewIsReadOnlyAndNotACopy() {
    Message message = Message.builder().payload(new byte[] {1, 2, 3}).build();

    java.nio.ByteBuffer view = message.payloadView();

    assertThat(view.isReadOnly()).isTrue();
    assertThat(view.remaining()).isEqualTo(3);
    assertThat(view.get(2)).isEqualTo((byte) 3);
    assertThatThrownBy(() -> view.put(0, (byte) 9))
        .isInstanceOf(java.nio.ReadOnlyBufferException.class);
    // Parley's own plumbing reads the same array the view shows, without a copy
    assertThat(dev.parley.internal.Payloads.shared(message))
        .isSameAs(dev.parley.internal.Payloads.shared(message))
        .containsExactly(1, 2, 3);
  }

  @Test
  void anAdoptedPayloadIsHeldAsGivenAndSurvivesToBuilder() {
    byte[] encoded = {4, 5};
    Message message = dev.parley.internal.Payloads.builder(encoded).header("a", "1").build();
    Message copy = message.toBuilder().header("b", "2").build();

    assertThat(dev.parley.internal.Payloads.shared(message)).isSameAs(encoded);
    assertThat(dev.parley.internal.Payloads.shared(copy)).isSameAs(encoded);
    assertThat(copy.payload()).containsExactly(4, 5).isNotSameAs(encoded);
  }

  @Test
  void headersAreUnmodifiable() {
    Message message = Message.builder().header("a", "b").build();

    assertThatThrownBy(() -> message.headers().put("c", "d"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void toBuilderKeepsIdAndHeaders() {
    Message original = Message.builder().header("a", "1").payload(new byte[] {7}).build();

    Message copy = original.toBuilder().header("b", "2").build();

    assertThat(copy.id()).isEqualTo(original.id());
    assertThat(copy.headers()).containsEntry("a", "1").containsEntry("b", "2");
    assertThat(copy.payload()).containsExactly(7);
  }

  @Test
  void aBuilderUsedAgainAfterBuildNeverChangesTheMessagesItBuilt() {
    Message.Builder builder = Message.builder().id("one").header("a", "1");
    Message first = builder.build();

    builder.header("a", "2").header("b", "3").removeHeader("a");
    Message second = builder.id("two").build();
    builder.header("c", "4");
    Message third = builder.build();

    assertThat(first.headers()).containsExactly(entry("a", "1"), entry(Headers.ID, "one"));
    assertThat(second.headers()).containsExactly(entry("b", "3"), entry(Headers.ID, "two"));
    assertThat(third.headers())
        .containsExactly(entry("b", "3"), entry("c", "4"), entry(Headers.ID, "two"));
    assertThat(third.toBuilder().removeHeader("b").build().headers())
        .as("toBuilder copies, and keeps the order")
        .containsExactly(entry("c", "4"), entry(Headers.ID, "two"));
    assertThat(third.headers()).containsKey("b");
  }

  @Test
  void idHeaderSetsTheId() {
    Message message = Message.builder().header(Headers.ID, "abc").build();

    assertThat(message.id()).isEqualTo("abc");
  }

  @Test
  void rejectsBlankHeaderNamesWithTheValueInTheMessage() {
    assertThatThrownBy(() -> Message.builder().header(" ", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("header name: ' ' (expected: non-blank)");
  }

  @Test
  void toStringNeverPrintsThePayload() {
    Message message =
        Message.builder()
            .payload("secret-card-number".getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .build();

    assertThat(message.toString()).doesNotContain("secret").contains("payloadSize=18");
  }
}
