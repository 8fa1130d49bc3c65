package dev.parley.codec.protobuf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecTck;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with {@code
 * JAZZER_FUZZ=1 ./mvnw test -pl codecs/protobuf -Dtest=ProtobufCodecFuzzTest}.
 */
class ProtobufCodecFuzzTest {

  private final Codec codec =
      ProtobufCodec.builder().maxPayloadBytes(64 * 1024).maxDepth(32).build();

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    CodecTck.assertDecodesOrFailsCleanly(
        codec,
        input,
        dev.parley.codec.protobuf.fixtures.Small.class,
        dev.parley.codec.protobuf.fixtures.Node.class,
        dev.parley.codec.protobuf.fixtures.Medium.class,
        dev.parley.codec.protobuf.fixtures.Collections.class);
  }
}
