package io.switchboard.gateway.routing;

/**
 * Cuts a prompt into fixed-size blocks of characters and hashes each block chained with every block before it,
 * so equal hashes mean equal prefixes: the gateway's stand-in for an engine's KV-cache block hashes. Characters,
 * not tokens, because the gateway has no tokenizer; the match is approximate at the edges (the last partial
 * block is never counted) but exact about which prefix a worker has seen. Four interleaved lanes per block keep
 * the CPU's multipliers busy: hashing is most of the cost of a prefix-aware pick.
 */
final class PromptBlocks {

  private PromptBlocks() {
  }

  static long[] hash(String prompt, int blockChars) {
    int count = prompt.length() / blockChars;
    long[] blocks = new long[count];
    if (count == 0) {
      return blocks;
    }
    long chain = 0x9e3779b97f4a7c15L;
    for (int b = 0; b < count; b++) {
      long l0 = chain;
      long l1 = 0;
      long l2 = 0;
      long l3 = 0;
      int start = b * blockChars;
      int end = start + blockChars;
      int i = start;
      for (; i + 3 < end; i += 4) {
        l0 = 31 * l0 + prompt.charAt(i);
        l1 = 31 * l1 + prompt.charAt(i + 1);
        l2 = 31 * l2 + prompt.charAt(i + 2);
        l3 = 31 * l3 + prompt.charAt(i + 3);
      }
      for (; i < end; i++) {
        l0 = 31 * l0 + prompt.charAt(i);
      }
      chain = mix(l0 ^ mix(l1 ^ mix(l2 ^ mix(l3 + blockChars))));
      blocks[b] = chain;
    }
    return blocks;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
