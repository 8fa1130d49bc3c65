package dev.parley.codec.xml;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecTck;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with {@code
 * JAZZER_FUZZ=1 ./mvnw test -pl codecs/xml -Dtest=XmlCodecFuzzTest}.
 */
class XmlCodecFuzzTest {

  private final Codec codec = XmlCodec.builder().maxPayloadBytes(64 * 1024).maxDepth(32).build();

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    CodecTck.assertDecodesOrFailsCleanly(
        codec,
        input,
        dev.parley.testing.tck.CodecFixtures.Small.class,
        dev.parley.testing.tck.CodecFixtures.Node.class,
        dev.parley.testing.tck.CodecFixtures.Medium.class);
  }
}
