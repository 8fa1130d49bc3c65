package dev.parley.message;

import dev.parley.internal.Randoms;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Generates time-ordered UUIDv7 message ids (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits. Ids created later sort later (to the millisecond), which keeps database indexes on message
 * ids (outbox, inbox) append-mostly. Thread-safe.
 */
public final class MessageIds {

  private static final SecureRandom RANDOM = Randoms.secure();

  private MessageIds() {}

  /** A new UUIDv7 string for the current time of the system clock. */
  public static String next() {
    return next(Clock.systemUTC());
  }

  /** A new UUIDv7 string for the current time of {@code clock}. */
  public static String next(Clock clock) {
    long millis = clock.millis();
    long randA = RANDOM.nextInt(1 << 12);
    long msb = (millis << 16) | (0x7L << 12) | randA;
    long lsb = (RANDOM.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }

  /** The creation time in epoch milliseconds encoded in a UUIDv7 id. */
  public static long timestampOf(String uuidV7) {
    UUID uuid = UUID.fromString(uuidV7);
    if (uuid.version() != 7) {
      throw new IllegalArgumentException("id: " + uuidV7 + " (expected: a UUIDv7)");
    }
    return uuid.getMostSignificantBits() >>> 16;
  }
}
