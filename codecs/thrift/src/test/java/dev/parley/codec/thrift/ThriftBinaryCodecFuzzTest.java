package dev.parley.codec.thrift;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.parley.codec.Codec;
import dev.parley.codec.CodecException;
import dev.parley.testing.tck.CodecTck;

/**
 * Only {@link CodecException} may escape the decoder, and whatever decodes re-encodes and decodes
 * to an equal value. Runs the seed corpus in the build (regression mode); fuzz for real with {@code
 * JAZZER_FUZZ=1 ./mvnw test -pl codecs/thrift -Dtest=ThriftBinaryCodecFuzzTest}.
 */
class ThriftBinaryCodecFuzzTest {

  private final Codec codec = ThriftCodec.of(ThriftCodec.Protocol.BINARY, 64 * 1024, 32);

  @FuzzTest(maxDuration = "30s")
  void decodesOrFailsWithCodecException(byte[] input) {
    CodecTck.assertDecodesOrFailsCleanly(
        codec,
        input,
        dev.parley.codec.thrift.fixtures.Small.class,
        dev.parley.codec.thrift.fixtures.Node.class,
        dev.parley.codec.thrift.fixtures.Medium.class,
        dev.parley.codec.thrift.fixtures.Collections.class);
  }
}
