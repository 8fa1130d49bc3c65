package dev.parley.codec.thrift;

import dev.parley.codec.Codec;
import dev.parley.codec.thrift.fixtures.Node;
import dev.parley.codec.thrift.fixtures.Text;
import dev.parley.testing.tck.CodecTck;

class ThriftCompactCodecTckTest extends CodecTck {

  private final ThriftCodec codec =
      ThriftCodec.of(ThriftCodec.Protocol.COMPACT, MAX_PAYLOAD, MAX_DEPTH);

  @Override
  protected Codec codec() {
    return codec;
  }

  @Override
  protected Fixtures fixtures() {
    return ThriftFixtures.all();
  }

  @Override
  protected byte[] deeplyNested() {
    return ThriftCodec.of(ThriftCodec.Protocol.COMPACT, MAX_PAYLOAD, 100_000)
        .encode(ThriftFixtures.chain(4 * MAX_DEPTH));
  }

  @Override
  protected Class<?> deepType() {
    return Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    byte[] bytes = codec.encode(new Text("x", "ab"));
    int at = indexOf(bytes, (byte) 'a', (byte) 'b');
    bytes[at] = (byte) 0xC3;
    bytes[at + 1] = 0x28;
    return bytes;
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return Text.class;
  }

  private static int indexOf(byte[] bytes, byte first, byte second) {
    for (int i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] == first && bytes[i + 1] == second) {
        return i;
      }
    }
    throw new IllegalStateException("marker not found");
  }
}
