package dev.parley.codec.json;

import dev.parley.codec.Codec;
import dev.parley.testing.tck.CodecFixtures;
import dev.parley.testing.tck.CodecTck;
import java.nio.charset.StandardCharsets;

class JsonCodecTckTest extends CodecTck {

  private final JsonCodec codec =
      JsonCodec.builder().maxPayloadBytes(MAX_PAYLOAD).maxDepth(MAX_DEPTH).build();

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
    int depth = 4 * MAX_DEPTH;
    String json = "{\"name\":\"n\",\"children\":[".repeat(depth) + "]}".repeat(depth);
    return json.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  protected Class<?> deepType() {
    return CodecFixtures.Node.class;
  }

  @Override
  protected byte[] invalidUtf8() {
    byte[] head = "{\"id\":\"x\",\"text\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + 4];
    System.arraycopy(head, 0, out, 0, head.length);
    out[head.length] = (byte) 0xC3;
    out[head.length + 1] = (byte) 0x28;
    out[head.length + 2] = '"';
    out[head.length + 3] = '}';
    return out;
  }

  @Override
  protected Class<?> invalidUtf8Type() {
    return CodecFixtures.Text.class;
  }
}
