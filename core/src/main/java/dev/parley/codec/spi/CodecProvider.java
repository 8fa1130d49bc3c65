package dev.parley.codec.spi;

import dev.parley.codec.Codec;

/**
 * Makes a codec discoverable through {@link java.util.ServiceLoader}: a codec artifact lists its
 * provider in {@code META-INF/services/dev.parley.codec.spi.CodecProvider}.
 */
public interface CodecProvider {

  /** Creates the codec with its safe defaults. */
  Codec create();

  /** Higher wins the default-codec place when several codecs are on the class path. */
  default int priority() {
    return 0;
  }
}
