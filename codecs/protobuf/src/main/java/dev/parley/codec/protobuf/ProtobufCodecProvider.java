package dev.parley.codec.protobuf;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers the binary protobuf codec. */
public final class ProtobufCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return ProtobufCodec.of();
  }

  @Override
  public int priority() {
    return 50;
  }
}
