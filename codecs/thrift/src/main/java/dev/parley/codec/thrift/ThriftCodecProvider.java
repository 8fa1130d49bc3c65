package dev.parley.codec.thrift;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers the Thrift binary protocol codec. */
public final class ThriftCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return ThriftCodec.binary();
  }

  @Override
  public int priority() {
    return 20;
  }
}
