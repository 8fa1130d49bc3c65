package dev.parley.transport.spi;

import java.nio.charset.StandardCharsets;

/**
 * Which partition a partition key belongs to, the same on every client and in every language
 * (documented in {@code docs/wire.md}): the 32-bit FNV-1a hash of the key's UTF-8 bytes (offset
 * basis {@code 0x811c9dc5}, prime {@code 0x01000193}) read as an unsigned number, modulo the
 * partition count. Computed by the publisher, so a key's partition never depends on broker state.
 */
public final class Partitions {

  private Partitions() {}

  public static int of(String key, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions: " + partitions + " (expected: > 0)");
    }
    int h = 0x811c9dc5;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x01000193;
    }
    return Integer.remainderUnsigned(h, partitions);
  }
}
