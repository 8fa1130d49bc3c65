package dev.parley.message;

import dev.parley.internal.Randoms;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Generates time-ordered UUIDv7 message ids (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits. Ids created later sort later (to the millisecond), which keeps database indexes on message
 * ids (outbox, inbox) append-mostly. Thread-safe.
 */
public final class MessageIds {

  /**
   * Mixed into every id's random bits: drawn once per process from a strong source, so two
   * processes whose per-thread generators happen to start alike still draw different ids.
   */
  private static final long SALT_A;

  private static final long SALT_B;

  static {
    SecureRandom seed = Randoms.secure();
    SALT_A = seed.nextLong();
    SALT_B = seed.nextLong();
  }

  private MessageIds() {}

  /** A new UUIDv7 string for the current time of the system clock. */
  public static String next() {
    return next(Clock.systemUTC());
  }

  /** A new UUIDv7 string for the current time of {@code clock}. */
  public static String next(Clock clock) {
    long millis = clock.millis();
    // Ids need to be unique, not secret (a sender may set any id; dedup keys on it, nothing
    // trusts it): the calling thread's generator, not a locked DRBG drawing a SHA-256 per value.
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long randA = (random.nextLong() ^ SALT_A) & 0xFFF;
    long msb = (millis << 16) | (0x7L << 12) | randA;
    long lsb = ((random.nextLong() ^ SALT_B) & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
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
