package io.switchboard.gateway.routing;

/**
 * Cuts a prompt into fixed-size blocks of characters and hashes each block chained with every block before it,
 * so equal hashes mean equal prefixes: the gateway's stand-in for an engine's KV-cache block hashes. Characters,
 * not tokens, because the gateway has no tokenizer; the match is approximate at the edges (the last partial
 * block is never counted) but exact about which prefix a worker has seen.
 */
final class PromptBlocks {

  private PromptBlocks() {
  }

  static long[] hash(String prompt, int blockChars) {
    int count = prompt.length() / blockChars;
    long[] blocks = new long[count];
    long chain = 0x9e3779b97f4a7c15L;
    for (int b = 0; b < count; b++) {
      long h = chain;
      int end = (b + 1) * blockChars;
      for (int i = b * blockChars; i < end; i++) {
        h = 31 * h + prompt.charAt(i);
      }
      chain = mix(h);
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
