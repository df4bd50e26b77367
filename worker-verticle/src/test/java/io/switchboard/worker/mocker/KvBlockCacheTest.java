package io.switchboard.worker.mocker;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class KvBlockCacheTest {

  private static long[] tokens(int count, int seed) {
    long[] tokens = new long[count];
    for (int i = 0; i < count; i++) {
      tokens[i] = seed * 1_000_003L + i;
    }
    return tokens;
  }

  @Test
  void onlyWholeBlocksAreKeyedAndEachKeyCoversEverythingBeforeIt() {
    KvBlockCache cache = new KvBlockCache(4, 100);
    long[] a = tokens(10, 1);
    long[] b = Arrays.copyOf(a, 10);
    b[1] = 999;

    long[] blocksA = cache.blockHashes(a);
    long[] blocksB = cache.blockHashes(b);

    assertThat(blocksA).hasSize(2);
    assertThat(blocksB[0]).isNotEqualTo(blocksA[0]);
    assertThat(blocksB[1]).as("a change in block 0 changes block 1's key too").isNotEqualTo(blocksA[1]);
  }

  @Test
  void theLongestCachedRunFromTheStartCounts() {
    KvBlockCache cache = new KvBlockCache(4, 100);
    long[] conversation = tokens(40, 1);
    cache.store(cache.blockHashes(Arrays.copyOf(conversation, 18)));

    assertThat(cache.cachedPrefixTokens(cache.blockHashes(conversation), 40)).isEqualTo(16);
    assertThat(cache.cachedPrefixTokens(cache.blockHashes(tokens(40, 2)), 40)).isZero();
    assertThat(cache.status().getLong("hitTokens")).isEqualTo(16);
    assertThat(cache.status().getLong("promptTokens")).isEqualTo(80);
    assertThat(cache.status().getDouble("hitRate")).isEqualTo(0.2);
  }

  @Test
  void evictionTakesTheLeastRecentlyUsedTailsFirstAndKeepsPrefixesUsable() {
    KvBlockCache cache = new KvBlockCache(4, 10);
    long[] old = tokens(32, 1);       // 8 blocks
    long[] recent = tokens(20, 2);    // 5 blocks
    cache.store(cache.blockHashes(old));
    cache.store(cache.blockHashes(recent));

    assertThat(cache.usedBlocks()).isEqualTo(10);
    assertThat(cache.status().getLong("evictions")).isEqualTo(3);
    // The old sequence lost its last 3 blocks, not its first ones.
    assertThat(cache.cachedPrefixTokens(cache.blockHashes(old), 32)).isEqualTo(20);
    assertThat(cache.cachedPrefixTokens(cache.blockHashes(recent), 20)).isEqualTo(20);
  }

  @Test
  void aZeroCapacityCacheKeepsNothing() {
    KvBlockCache cache = new KvBlockCache(4, 0);
    long[] blocks = cache.blockHashes(tokens(16, 1));
    cache.store(blocks);

    assertThat(cache.cachedPrefixTokens(blocks, 16)).isZero();
  }
}
