package dev.parley.codec.avro;

import dev.parley.codec.Codec;
import dev.parley.codec.avro.fixtures.Node;
import dev.parley.codec.avro.fixtures.Text;
import dev.parley.testing.tck.CodecTck;

class AvroCodecTckTest extends CodecTck {

  private final AvroCodec codec =
      AvroCodec.builder().maxPayloadBytes(MAX_PAYLOAD).maxDepth(MAX_DEPTH).build();

  @Override
  protected Codec codec() {
    return codec;
  }

  @Override
  protected Fixtures fixtures() {
    return AvroFixtures.all();
  }

  @Override
  protected byte[] deeplyNested() {
    return AvroCodec.builder().maxDepth(100_000).build().encode(AvroFixtures.chain(4 * MAX_DEPTH));
  }

  @Override
  protected Class<?> deepType() {
    return Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    byte[] bytes = codec.encode(new Text("x", "ab"));
    bytes[bytes.length - 2] = (byte) 0xC3;
    bytes[bytes.length - 1] = 0x28;
    return bytes;
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return Text.class;
  }
}
