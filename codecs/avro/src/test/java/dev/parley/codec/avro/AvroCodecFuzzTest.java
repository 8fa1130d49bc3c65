package dev.parley.codec.avro;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecTck;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with {@code
 * JAZZER_FUZZ=1 ./mvnw test -pl codecs/avro -Dtest=AvroCodecFuzzTest}.
 */
class AvroCodecFuzzTest {

  private final Codec codec = AvroCodec.builder().maxPayloadBytes(64 * 1024).maxDepth(32).build();

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    CodecTck.assertDecodesOrFailsCleanly(
        codec,
        input,
        dev.parley.codec.avro.fixtures.Small.class,
        dev.parley.codec.avro.fixtures.Node.class,
        dev.parley.codec.avro.fixtures.Medium.class,
        dev.parley.codec.avro.fixtures.Collections.class);
  }
}
