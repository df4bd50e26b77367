package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Sends a request to the worker likely to answer first: where its prompt's prefix is already in the KV cache,
 * unless that worker has more prompt work queued than the cache saves. Each worker's cost, in units of this
 * request's prompt, is {@code cacheWeight × (prompt characters it has not seen) + queueWeight × (characters this
 * gateway sent it that await their first token) + loadWeight × utilization}; the cheapest wins (ties in turn) among the workers the {@link BalanceGuard} does not find
 * overloaded, so a hot prefix spills to the next best worker (often one that holds it too) rather than to any. What was sent
 * where is remembered in a bounded {@link PrefixIndex}; other gateways' decisions arrive through
 * {@link #learn} when prefix sharing is on.
 */
public final class PrefixAwarePolicy implements RoutingPolicy {

  public static final String NAME = "prefix-aware";
  /** Up to this many candidates, a pick scores every one of them. */
  static final int FULL_SCAN_LIMIT = 64;
  /** Beyond, it scores the workers holding the prefix plus this many others. */
  static final int SAMPLE = 32;

  /** Told (model, worker, blocks new to that worker) after each decision, to share it with other gateways. */
  public interface Listener {
    void recorded(String model, String workerId, long[] newBlocks);
  }

  private final RouterOptions options;
  private final PrefixIndex index;
  private final BalanceGuard guard;
  private final Listener listener;
  private int turn;
  // Scratch space of one pick, reused (a policy instance is used on one event loop only).
  private double[] costs = new double[16];
  private int[] loads = new int[16];
  private int[] matches = new int[16];
  private int[] pool = new int[16];
  private static final int[] NONE = new int[0];

  public PrefixAwarePolicy(RouterOptions options, LongSupplier clock, Listener listener) {
    this.options = options;
    this.index = new PrefixIndex(options.getPrefixMaxBlocks(), options.getPrefixWorkersPerBlock(),
        options.getPrefixTtlMs() * 1_000_000L, clock);
    this.guard = new BalanceGuard(options.getBalanceAbsThreshold(), options.getBalanceRelThreshold());
    this.listener = listener;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    long[] blocks = request.blocks(options.getPrefixBlockChars());
    Map<String, Integer> matched = index.matches(blocks);
    int n = candidates.size();
    int first = Math.floorMod(turn, n);
    turn = turn == Integer.MAX_VALUE ? 0 : turn + 1;
    int size = fillPool(candidates, matched, first);
    int promptChars = request.prompt().length();
    int blockChars = options.getPrefixBlockChars();
    double perPrompt = 1.0 / Math.max(promptChars, blockChars);
    int[] matchedHashes = hashesOf(matched);
    // Pass 1: each pooled worker's cost, its load, and whether it holds a prefix (by hash code first: no map
    // lookup per worker).
    int min = Integer.MAX_VALUE;
    long sum = 0;
    for (int k = 0; k < size; k++) {
      WorkerState worker = candidates.get(pool[k]);
      int load = worker.routingLoad();
      loads[k] = load;
      min = Math.min(min, load);
      sum += load;
      matches[k] = matchedHashes.length == 0 ? 0 : matchOf(worker.workerId(), matchedHashes, matched);
      double uncached = (promptChars - matches[k] * (double) blockChars) * perPrompt;
      double queued = worker.openHere().pendingPrefillChars() * perPrompt;
      costs[k] = options.getCacheWeight() * uncached + options.getQueueWeight() * queued
          + options.getLoadWeight() * load / Math.max(1, worker.descriptor().slots());
    }
    // Pass 2: the cheapest worker the balance guard allows, and whether the guard changed the outcome.
    BalanceGuard.Spread spread = new BalanceGuard.Spread(min, sum / (double) size);
    int best = -1;
    double cheapestOverloaded = Double.MAX_VALUE;
    for (int k = 0; k < size; k++) {
      if (guard.overloaded(loads[k], spread)) {
        cheapestOverloaded = Math.min(cheapestOverloaded, costs[k]);
      } else if (best < 0 || costs[k] < costs[best]) {
        best = k;
      }
    }
    WorkerState chosen = candidates.get(pool[best]);
    String reason = cheapestOverloaded < costs[best] ? "balance" : matches[best] > 0 ? "prefix" : "load";
    int firstNew = index.record(blocks, chosen.workerId());
    if (listener != null && firstNew < blocks.length) {
      listener.recorded(request.model(), chosen.workerId(), Arrays.copyOfRange(blocks, firstNew, blocks.length));
    }
    int matchedChars = matches[best] * blockChars;
    return new Pick(chosen, reason, matchedChars, promptChars - matchedChars);
  }

  /**
   * The candidates a pick scores, as indexes into {@code candidates}, starting at {@code first} (so ties go
   * round in turn). Up to {@link #FULL_SCAN_LIMIT} candidates: all of them. Beyond: the workers holding the
   * prompt's prefix (found by binary search, the list being sorted by worker id) plus {@link #SAMPLE} evenly
   * spaced others from a rotating offset, so a pick costs the same with 1,000 workers as with 64 (the
   * power-of-d-choices result: a sample this size balances nearly as well as looking at all).
   */
  private int fillPool(List<WorkerState> candidates, Map<String, Integer> matched, int first) {
    int n = candidates.size();
    if (n <= FULL_SCAN_LIMIT) {
      ensureCapacity(n);
      for (int k = 0, at = first; k < n; k++, at = at + 1 == n ? 0 : at + 1) {
        pool[k] = at;
      }
      return n;
    }
    ensureCapacity(matched.size() + SAMPLE);
    int size = 0;
    for (String workerId : matched.keySet()) {
      int at = indexOf(candidates, workerId);
      if (at >= 0) {
        pool[size++] = at;
      }
    }
    int stride = n / SAMPLE;
    for (int k = 0, at = first; k < SAMPLE; k++) {
      pool[size++] = at;
      at += stride;
      if (at >= n) {
        at -= n;
      }
    }
    return size;
  }

  /** Binary search by worker id; -1 when absent (or when the list is not sorted by id). */
  private static int indexOf(List<WorkerState> candidates, String workerId) {
    int lo = 0;
    int hi = candidates.size() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int order = candidates.get(mid).workerId().compareTo(workerId);
      if (order == 0) {
        return mid;
      }
      if (order < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return -1;
  }

  private static int[] hashesOf(Map<String, Integer> matched) {
    if (matched.isEmpty()) {
      return NONE;
    }
    int[] hashes = new int[matched.size()];
    int i = 0;
    for (String worker : matched.keySet()) {
      hashes[i++] = worker.hashCode();
    }
    return hashes;
  }

  private static int matchOf(String workerId, int[] matchedHashes, Map<String, Integer> matched) {
    int hash = workerId.hashCode();
    for (int h : matchedHashes) {
      if (h == hash) {
        return matched.getOrDefault(workerId, 0);
      }
    }
    return 0;
  }

  private void ensureCapacity(int n) {
    if (costs.length < n) {
      costs = new double[n];
      loads = new int[n];
      matches = new int[n];
      pool = new int[n];
    }
  }

  /** Another gateway sent these blocks (the tail of a prompt whose head it sent before) to {@code workerId}. */
  public void learn(String workerId, long[] blocks) {
    index.record(blocks, workerId);
  }

  int indexedBlocks() {
    return index.size();
  }
}
