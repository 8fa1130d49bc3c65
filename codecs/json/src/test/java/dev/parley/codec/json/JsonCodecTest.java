package dev.parley.codec.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.codec.CodecException;
import dev.parley.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonCodecTest {

  record Order(String id, int quantity, Instant placedAt, List<String> items) {}

  private final JsonCodec codec = JsonCodec.builder().maxPayloadBytes(4096).maxDepth(16).build();

  @Test
  void roundTripsRecordsWithTimeTypes() {
    Order order =
        new Order("o-1", 3, Instant.parse("2026-11-24T10:15:30Z"), List.of("naan", "dal"));

    byte[] bytes = codec.encode(order);

    assertThat(new String(bytes, StandardCharsets.UTF_8)).contains("\"2026-11-24T10:15:30Z\"");
    assertThat(codec.decode(bytes, Order.class)).isEqualTo(order);
  }

  @Test
  void ignoresUnknownPropertiesSoProducersCanAddFields() {
    byte[] json =
        "{\"id\":\"o-2\",\"quantity\":1,\"items\":[],\"added\":true}"
            .getBytes(StandardCharsets.UTF_8);

    assertThat(codec.decode(json, Order.class).id()).isEqualTo("o-2");
  }

  @Test
  void rejectsMalformedJsonWithStableCode() {
    byte[] json = "{\"id\":".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> codec.decode(json, Order.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.MALFORMED));
  }

  @Test
  void rejectsPayloadOverSizeLimit() {
    byte[] json = ("{\"id\":\"" + "x".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> codec.decode(json, Order.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.TOO_LARGE));
  }

  @Test
  void rejectsDeepNestingWithoutStackOverflow() {
    String deep = "[".repeat(1000) + "]".repeat(1000);
    byte[] json = ("{\"id\":\"o\",\"items\":" + deep + "}").getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> codec.decode(json, Object.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.TOO_DEEP));
  }

  @Test
  void refusesPolymorphicTypeIds() {
    byte[] json = "{\"@class\":\"java.net.URL\",\"id\":\"o\"}".getBytes(StandardCharsets.UTF_8);

    Object decoded = codec.decode(json, Object.class);

    assertThat(decoded).isInstanceOf(java.util.Map.class);
  }

  @Test
  void rejectsJsonNullPayload() {
    assertThatThrownBy(() -> codec.decode("null".getBytes(StandardCharsets.UTF_8), Order.class))
        .isInstanceOf(CodecException.class);
  }

  @Test
  void isDiscoveredAsTheDefaultCodec() {
    Codecs codecs = Codecs.discover();

    assertThat(codecs.defaultCodec().contentType()).isEqualTo("application/json");
    assertThat(codecs.decoderFor("application/json; charset=utf-8", Order.class)).isNotNull();
    assertThatThrownBy(() -> codecs.decoderFor("application/x-java-serialized-object", Order.class))
        .isInstanceOfSatisfying(
            CodecException.class,
            e -> assertThat(e.errorCode()).isEqualTo(CodecException.UNSUPPORTED_CONTENT_TYPE));
  }
}
