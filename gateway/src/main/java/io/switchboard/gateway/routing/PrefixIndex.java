package io.switchboard.gateway.routing;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Which workers were sent which prompt prefixes, as chained block hashes (see {@link PromptBlocks}): the
 * router's approximation of every worker's KV cache, kept without any help from the workers. Bounded: at most
 * {@code maxBlocks} blocks (least recently recorded forgotten first), at most {@code workersPerBlock} workers per
 * block (the least recent replaced), and a worker's claim on a block expires after {@code ttlNanos}, as engines
 * evict what nobody uses. Not thread-safe: one per model's policy, on the gateway verticle's event loop.
 */
final class PrefixIndex {

  private final int workersPerBlock;
  private final long ttlNanos;
  private final LongSupplier clock;
  private final LinkedHashMap<Long, Holders> blocks;

  PrefixIndex(int maxBlocks, int workersPerBlock, long ttlNanos, LongSupplier clock) {
    this.workersPerBlock = workersPerBlock;
    this.ttlNanos = ttlNanos;
    this.clock = clock;
    // Access order: a lookup or a record makes a block the most recent; record() goes last to first, so each
    // prompt's first block ends up most recent of all.
    this.blocks = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Holders> eldest) {
        return size() > maxBlocks;
      }
    };
  }

  /**
   * How many leading blocks of {@code prompt} each worker holds, for the workers holding at least the first.
   * A worker that holds block i was sent the whole prefix up to it (the hashes are chained), so its match is
   * found by binary search over the blocks rather than a walk: a pick costs O(holders × log blocks).
   */
  Map<String, Integer> matches(long[] prompt) {
    if (prompt.length == 0) {
      return Map.of();
    }
    Holders first = blocks.get(prompt[0]);
    if (first == null) {
      return Map.of();
    }
    long now = clock.getAsLong();
    Map<String, Integer> matched = new HashMap<>();
    for (int h = 0; h < first.size; h++) {
      if (now - first.seenNanos[h] > ttlNanos) {
        continue;
      }
      String worker = first.workers[h];
      int lo = 0;
      int hi = prompt.length - 1;
      while (lo < hi) {
        int mid = (lo + hi + 1) >>> 1;
        Holders holders = blocks.get(prompt[mid]);
        if (holders != null && holders.holds(worker, now, ttlNanos)) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      matched.put(worker, lo + 1);
    }
    return matched;
  }

  /**
   * Records that {@code worker} was sent {@code prompt}. Blocks are recorded last to first, so a prefix is
   * always more recent than its extensions and eviction takes the tails first, never a hole at the start.
   *
   * @return the index of the first block {@code worker} did not hold yet ({@code prompt.length} when none):
   *         what is new, and worth telling other gateways
   */
  int record(long[] prompt, String worker) {
    long now = clock.getAsLong();
    int firstNew = prompt.length;
    for (int b = prompt.length - 1; b >= 0; b--) {
      Holders holders = blocks.get(prompt[b]);
      if (holders == null) {
        holders = new Holders(Math.min(workersPerBlock, 4));
        blocks.put(prompt[b], holders);
      }
      if (!holders.touch(worker, now, ttlNanos, workersPerBlock)) {
        firstNew = b;
      }
    }
    return firstNew;
  }

  int size() {
    return blocks.size();
  }

  /** The workers claiming one block, with when each was last sent it. */
  private static final class Holders {
    String[] workers;
    long[] seenNanos;
    int size;

    Holders(int capacity) {
      workers = new String[capacity];
      seenNanos = new long[capacity];
    }

    boolean holds(String worker, long now, long ttl) {
      for (int i = 0; i < size; i++) {
        if (workers[i].equals(worker)) {
          return now - seenNanos[i] <= ttl;
        }
      }
      return false;
    }

    /** Marks {@code worker} as holding the block now; returns whether it held it (unexpired) before. */
    boolean touch(String worker, long now, long ttl, int limit) {
      int oldest = 0;
      for (int i = 0; i < size; i++) {
        if (workers[i].equals(worker)) {
          boolean held = now - seenNanos[i] <= ttl;
          seenNanos[i] = now;
          return held;
        }
        if (seenNanos[i] < seenNanos[oldest]) {
          oldest = i;
        }
      }
      if (size < limit) {
        if (size == workers.length) {
          int grown = Math.min(limit, workers.length * 2);
          workers = java.util.Arrays.copyOf(workers, grown);
          seenNanos = java.util.Arrays.copyOf(seenNanos, grown);
        }
        workers[size] = worker;
        seenNanos[size] = now;
        size++;
      } else {
        workers[oldest] = worker;
        seenNanos[oldest] = now;
      }
      return false;
    }
  }
}
