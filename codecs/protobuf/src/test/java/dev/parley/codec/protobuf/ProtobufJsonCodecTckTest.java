package dev.parley.codec.protobuf;

import dev.parley.codec.Codec;
import dev.parley.codec.protobuf.fixtures.Node;
import dev.parley.codec.protobuf.fixtures.Text;
import dev.parley.testing.tck.CodecTck;
import java.nio.charset.StandardCharsets;

class ProtobufJsonCodecTckTest extends CodecTck {

  private final ProtobufJsonCodec codec = ProtobufJsonCodec.of(MAX_PAYLOAD, MAX_DEPTH);

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
    int depth = 4 * MAX_DEPTH;
    return ("{\"name\":\"n\",\"children\":[".repeat(depth) + "]}".repeat(depth))
        .getBytes(StandardCharsets.UTF_8);
  }

  @Override
  protected Class<?> deepType() {
    return Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    return new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'};
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return Text.class;
  }
}
