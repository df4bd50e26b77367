package io.switchboard.worker.mocker;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mocker's simulated prefix (KV) cache, shaped like vLLM's automatic prefix caching: a prompt is cut into
 * blocks of {@code blockSize} tokens; each full block is keyed by a hash chained over every token before it, so
 * a block hit means the whole prefix up to it was computed before. A request reuses the longest run of cached
 * blocks from its start; the cache holds at most {@code capacityBlocks} and evicts the least recently used.
 * Not thread-safe: one per mocker engine, used on its worker's event loop.
 */
final class KvBlockCache {

  private final int blockSize;
  private final int capacityBlocks;
  private final LinkedHashMap<Long, Boolean> blocks;
  private long lookups;
  private long promptTokens;
  private long hitTokens;
  private long evictions;

  KvBlockCache(int blockSize, int capacityBlocks) {
    this.blockSize = blockSize;
    this.capacityBlocks = capacityBlocks;
    this.blocks = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
        if (size() > KvBlockCache.this.capacityBlocks) {
          evictions++;
          return true;
        }
        return false;
      }
    };
  }

  /** Chained hashes of the full blocks of {@code tokens} (a partial last block is never cached). */
  long[] blockHashes(long[] tokens) {
    long[] hashes = new long[tokens.length / blockSize];
    long chain = 0x9e3779b97f4a7c15L;
    for (int b = 0; b < hashes.length; b++) {
      for (int t = b * blockSize; t < (b + 1) * blockSize; t++) {
        chain = mix(chain ^ tokens[t]);
      }
      hashes[b] = chain;
    }
    return hashes;
  }

  /**
   * Looks a prompt up: how many of its {@code tokenCount} tokens are cached (whole blocks from the start), and
   * records the lookup in the hit statistics. Does not touch the blocks: {@link #store} does, in its order.
   */
  int cachedPrefixTokens(long[] blockHashes, int tokenCount) {
    int hit = 0;
    while (hit < blockHashes.length && blocks.containsKey(blockHashes[hit])) {
      hit++;
    }
    int cached = Math.min(tokenCount, hit * blockSize);
    lookups++;
    promptTokens += tokenCount;
    hitTokens += cached;
    return cached;
  }

  /**
   * Keeps the blocks of a computed sequence, evicting the least recently used past capacity. Stored last to
   * first, so a sequence's first blocks are its most recent and eviction takes its tail first (as vLLM frees
   * the blocks at the end of a sequence first): a prefix never loses its start while its continuation stays.
   */
  void store(long[] blockHashes) {
    if (capacityBlocks == 0) {
      return;
    }
    for (int b = blockHashes.length - 1; b >= 0; b--) {
      blocks.put(blockHashes[b], Boolean.TRUE);
    }
  }

  int usedBlocks() {
    return blocks.size();
  }

  JsonObject status() {
    return new JsonObject()
        .put("blockSize", blockSize)
        .put("capacityBlocks", capacityBlocks)
        .put("usedBlocks", blocks.size())
        .put("lookups", lookups)
        .put("promptTokens", promptTokens)
        .put("hitTokens", hitTokens)
        .put("hitRate", promptTokens == 0 ? 0.0 : Math.round(1000.0 * hitTokens / promptTokens) / 1000.0)
        .put("evictions", evictions);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
