package dev.parley.codec.xml;

import dev.parley.codec.Codec;
import dev.parley.codec.spi.CodecProvider;

/** Registers {@link XmlCodec} for decoding (and encoding where configured as the default). */
public final class XmlCodecProvider implements CodecProvider {

  @Override
  public Codec create() {
    return XmlCodec.of();
  }

  @Override
  public int priority() {
    return 10;
  }
}
