package dev.parley.codec.json;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers {@link JsonCodec} as the default codec when it is on the class path. */
public final class JsonCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return JsonCodec.of();
  }

  @Override
  public int priority() {
    return 100;
  }
}
