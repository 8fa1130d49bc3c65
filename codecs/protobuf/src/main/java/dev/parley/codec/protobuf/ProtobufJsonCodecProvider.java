package dev.parley.codec.protobuf;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers the protobuf JSON mapping, so JSON payloads of protobuf types decode. */
public final class ProtobufJsonCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return ProtobufJsonCodec.of();
  }

  @Override
  public int priority() {
    return 40;
  }
}
