package io.switchboard.gateway.api;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Whether a body's bytes can go straight to Jackson's byte parser: well-formed UTF-8 by the Unicode standard's
 * rules (no overlong forms, no encoded surrogates, nothing past U+10FFFF: what Java's strict decoder accepts)
 * and no NUL byte (Jackson takes leading NULs as a sign of UTF-16 or UTF-32). Jackson's byte parser is lenient
 * about malformed UTF-8, so bodies that fail this check are decoded strictly first and parsed as text.
 */
final class PlainUtf8 {

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long HIGH_BITS = 0x8080808080808080L;
  private static final long LOW_BITS = 0x0101010101010101L;

  private PlainUtf8() {
  }

  static boolean check(byte[] bytes) {
    int i = 0;
    int n = bytes.length;
    while (i < n) {
      // Eight ASCII bytes at a time: the usual body is mostly ASCII.
      if (i + 8 <= n) {
        long word = (long) LONGS.get(bytes, i);
        boolean ascii = (word & HIGH_BITS) == 0;
        boolean noNul = ((word - LOW_BITS) & ~word & HIGH_BITS) == 0;
        if (ascii && noNul) {
          i += 8;
          continue;
        }
      }
      int b = bytes[i] & 0xFF;
      if (b < 0x80) {
        if (b == 0) {
          return false;
        }
        i++;
        continue;
      }
      int length;
      int min2 = 0x80;
      int max2 = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        length = 2;
      } else if (b >= 0xE0 && b <= 0xEF) {
        length = 3;
        if (b == 0xE0) {
          min2 = 0xA0;  // overlong below U+0800
        } else if (b == 0xED) {
          max2 = 0x9F;  // U+D800-U+DFFF, surrogates
        }
      } else if (b >= 0xF0 && b <= 0xF4) {
        length = 4;
        if (b == 0xF0) {
          min2 = 0x90;  // overlong below U+10000
        } else if (b == 0xF4) {
          max2 = 0x8F;  // past U+10FFFF
        }
      } else {
        return false;   // 80-C1 (a continuation or an overlong lead) and F5-FF never start a sequence
      }
      if (i + length > n) {
        return false;
      }
      int second = bytes[i + 1] & 0xFF;
      if (second < min2 || second > max2) {
        return false;
      }
      for (int k = 2; k < length; k++) {
        int next = bytes[i + k] & 0xFF;
        if (next < 0x80 || next > 0xBF) {
          return false;
        }
      }
      i += length;
    }
    return true;
  }
}
