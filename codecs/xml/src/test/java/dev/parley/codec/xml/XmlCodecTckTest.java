package dev.parley.codec.xml;

import dev.parley.codec.Codec;
import dev.parley.testing.tck.CodecFixtures;
import dev.parley.testing.tck.CodecTck;
import java.nio.charset.StandardCharsets;

class XmlCodecTckTest extends CodecTck {

  private final XmlCodec codec =
      XmlCodec.builder().maxPayloadBytes(MAX_PAYLOAD).maxDepth(MAX_DEPTH).build();

  @Override
  protected Codec codec() {
    return codec;
  }

  @Override
  protected Fixtures fixtures() {
    return CodecFixtures.plainJava();
  }

  @Override
  protected byte[] deeplyNested() {
    return XmlCodec.builder().maxDepth(100_000).build().encode(CodecFixtures.chain(4 * MAX_DEPTH));
  }

  @Override
  protected Class<?> deepType() {
    return CodecFixtures.Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    byte[] head = "<Text><id>x</id><text>".getBytes(StandardCharsets.UTF_8);
    byte[] tail = "</text></Text>".getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + 2 + tail.length];
    System.arraycopy(head, 0, out, 0, head.length);
    out[head.length] = (byte) 0xC3;
    out[head.length + 1] = (byte) 0x28;
    System.arraycopy(tail, 0, out, head.length + 2, tail.length);
    return out;
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return CodecFixtures.Text.class;
  }
}
