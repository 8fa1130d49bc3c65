package dev.parley.codec.json;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecFixtures;
import dev.parley.testing.tck.CodecTck;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with {@code
 * JAZZER_FUZZ=1 ./mvnw test -pl codecs/json -Dtest=JsonCodecFuzzTest}.
 */
class JsonCodecFuzzTest {

  private final JsonCodec codec =
      JsonCodec.builder().maxPayloadBytes(64 * 1024).maxDepth(32).build();

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    CodecTck.assertDecodesOrFailsCleanly(
        codec,
        input,
        CodecFixtures.Small.class,
        CodecFixtures.Node.class,
        CodecFixtures.Medium.class);
  }
}
