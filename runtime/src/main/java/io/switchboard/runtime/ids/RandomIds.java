package io.switchboard.runtime.ids;

import java.security.SecureRandom;
import java.util.SplittableRandom;

/**
 * 128-bit random identifiers (request ids, stream ids) as 32 lowercase hex characters.
 *
 * <p>{@code UUID.randomUUID()} draws from the shared {@code SecureRandom} under a lock, twice per request, which
 * showed in a busy node's profile (docs/performance.md). These ids only have to be unique, not secret, so each thread
 * draws from its own generator, seeded once from {@code SecureRandom} so that nodes and threads do not share
 * sequences.
 */
public final class RandomIds {

  private static final SecureRandom SEEDS = new SecureRandom();
  private static final ThreadLocal<SplittableRandom> RANDOM =
      ThreadLocal.withInitial(() -> new SplittableRandom(SEEDS.nextLong()));
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private RandomIds() {
  }

  /** A new id: 32 characters from [0-9a-f]. */
  public static String next() {
    SplittableRandom random = RANDOM.get();
    byte[] chars = new byte[32];
    writeHex(random.nextLong(), chars, 0);
    writeHex(random.nextLong(), chars, 16);
    return new String(chars, java.nio.charset.StandardCharsets.US_ASCII);
  }

  private static void writeHex(long value, byte[] into, int at) {
    for (int i = 15; i >= 0; i--) {
      into[at + i] = HEX[(int) (value & 0xF)];
      value >>>= 4;
    }
  }
}
