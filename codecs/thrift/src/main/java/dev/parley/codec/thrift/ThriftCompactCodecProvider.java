package dev.parley.codec.thrift;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers the Thrift compact protocol codec, so compact payloads decode. */
public final class ThriftCompactCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return ThriftCodec.compact();
  }

  @Override
  public int priority() {
    return 19;
  }
}
