package dev.parley.internal;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Where Parley's secret per-message random bits (reply tokens) and the id salt come from. */
public final class Randoms {

  private Randoms() {}

  /**
   * A cryptographically strong generator that does not call into the operating system for every
   * value: the JDK's DRBG (NIST SP 800-90A Hash_DRBG, SHA-256), seeded once from the system's
   * entropy. The platform default on Linux ({@code NativePRNG}) reads {@code /dev/urandom} every
   * few values and mixes each with SHA1PRNG under one lock; per message id and reply token that was
   * a measurable part of a request's CPU. Falls back to the default where DRBG is not offered.
   */
  public static SecureRandom secure() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }
}
