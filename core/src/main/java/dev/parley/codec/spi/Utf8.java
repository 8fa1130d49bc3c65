package dev.parley.codec.spi;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Strict UTF-8 validation without allocating, for decoders whose libraries replace malformed
 * sequences silently: rejects stray continuation bytes, overlong forms, surrogates (U+D800–DFFF)
 * and code points above U+10FFFF.
 */
public final class Utf8 {

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;

  private Utf8() {}

  /** Whether {@code length} bytes of {@code bytes} from {@code offset} are well-formed UTF-8. */
  public static boolean isValid(byte[] bytes, int offset, int length) {
    int i = offset;
    int end = offset + length;
    while (i < end) {
      int c = bytes[i];
      if (c >= 0) {
        // ASCII fast path: eight bytes at a time while none has its high bit set.
        i++;
        while (i + 8 <= end && ((long) LONGS.get(bytes, i) & HIGH_BITS) == 0) {
          i += 8;
        }
        continue;
      }
      c &= 0xFF;
      if (c < 0xC2) {
        return false;
      }
      if (c < 0xE0) {
        if (i + 1 >= end || !continuation(bytes[i + 1])) {
          return false;
        }
        i += 2;
      } else if (c < 0xF0) {
        if (i + 2 >= end || !continuation(bytes[i + 1]) || !continuation(bytes[i + 2])) {
          return false;
        }
        int c1 = bytes[i + 1] & 0xFF;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) {
          return false;
        }
        i += 3;
      } else if (c < 0xF5) {
        if (i + 3 >= end
            || !continuation(bytes[i + 1])
            || !continuation(bytes[i + 2])
            || !continuation(bytes[i + 3])) {
          return false;
        }
        int c1 = bytes[i + 1] & 0xFF;
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) {
          return false;
        }
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  }

  private static boolean continuation(byte b) {
    return (b & 0xC0) == 0x80;
  }
}
