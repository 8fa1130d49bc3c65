package dev.parley.codec.xml;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with
 * {@code JAZZER_FUZZ=1 ./mvnw test -pl codecs/xml -Dtest=XmlCodecFuzzTest}.
 */
class XmlCodecFuzzTest {

  private final Codec codec = XmlCodec.builder().maxPayloadBytes(64 * 1024).maxDepth(32).build();

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    for (Class<?> type : new Class<?>[] {dev.parley.testing.tck.CodecFixtures.Small.class, dev.parley.testing.tck.CodecFixtures.Node.class, dev.parley.testing.tck.CodecFixtures.Medium.class}) {
      try {
        Object value = codec.decode(input, type);
        assertThat(codec.decode(codec.encode(value), type)).isEqualTo(value);
      } catch (CodecException expected) {
        assertThat(expected.errorCode()).startsWith("parley.codec.");
      }
    }
  }
}
