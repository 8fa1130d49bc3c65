package dev.parley.codec.protobuf;

import dev.parley.codec.Codec;
import dev.parley.codec.protobuf.fixtures.Node;
import dev.parley.codec.protobuf.fixtures.Text;
import dev.parley.testing.tck.CodecTck;

class ProtobufCodecTckTest extends CodecTck {

  private final ProtobufCodec codec =
      ProtobufCodec.builder().maxPayloadBytes(MAX_PAYLOAD).maxDepth(MAX_DEPTH).build();

  @Override
  protected Codec codec() {
    return codec;
  }

  @Override
  protected Fixtures fixtures() {
    return ProtobufFixtures.all();
  }

  @Override
  protected byte[] deeplyNested() {
    return ProtobufFixtures.chain(4 * MAX_DEPTH).toByteArray();
  }

  @Override
  protected Class<?> deepType() {
    return Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    return ProtobufFixtures.textWithInvalidUtf8();
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return Text.class;
  }
}
