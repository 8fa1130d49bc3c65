package dev.parley.codec.avro;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers {@link AvroCodec} with an in-memory schema store. */
public final class AvroCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return AvroCodec.of();
  }

  @Override
  public int priority() {
    return 30;
  }
}
