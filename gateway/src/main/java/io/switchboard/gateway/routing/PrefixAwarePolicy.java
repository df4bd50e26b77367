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

  /** Told (model, worker, blocks new to that worker) after each decision, to share it with other gateways. */
  public interface Listener {
    void recorded(String model, String workerId, long[] newBlocks);
  }

  private final RouterOptions options;
  private final PrefixIndex index;
  private final BalanceGuard guard;
  private final Listener listener;
  private int turn;

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
    BalanceGuard.Spread spread = guard.spread(candidates);
    int n = candidates.size();
    int start = Math.floorMod(turn, n);
    turn = turn == Integer.MAX_VALUE ? 0 : turn + 1;
    // The cheapest worker the balance guard allows, and whether the guard changed the outcome.
    WorkerState best = null;
    int bestMatch = 0;
    double bestCost = Double.MAX_VALUE;
    double cheapestOverloaded = Double.MAX_VALUE;
    int promptChars = request.prompt().length();
    double perPrompt = 1.0 / Math.max(promptChars, options.getPrefixBlockChars());
    for (int k = 0; k < n; k++) {
      WorkerState worker = candidates.get((start + k) % n);
      int match = matched.isEmpty() ? 0 : matched.getOrDefault(worker.workerId(), 0);
      // In prompts of this request's size: what it would compute there, what is queued there before it, and
      // how busy decoding is. Weighted equally, the sum tracks which worker will answer first.
      double uncached = (promptChars - match * options.getPrefixBlockChars()) * perPrompt;
      double queued = worker.openHere().pendingPrefillChars() * perPrompt;
      double cost = options.getCacheWeight() * uncached + options.getQueueWeight() * queued
          + options.getLoadWeight() * worker.utilization();
      if (guard.overloaded(worker, spread)) {
        cheapestOverloaded = Math.min(cheapestOverloaded, cost);
      } else if (cost < bestCost) {
        best = worker;
        bestCost = cost;
        bestMatch = match;
      }
    }
    String reason = cheapestOverloaded < bestCost ? "balance" : bestMatch > 0 ? "prefix" : "load";
    int firstNew = index.record(blocks, best.workerId());
    if (listener != null && firstNew < blocks.length) {
      listener.recorded(request.model(), best.workerId(), Arrays.copyOfRange(blocks, firstNew, blocks.length));
    }
    int matchedChars = bestMatch * options.getPrefixBlockChars();
    return new Pick(best, reason, matchedChars, promptChars - matchedChars);
  }

  /** Another gateway sent these blocks (the tail of a prompt whose head it sent before) to {@code workerId}. */
  public void learn(String workerId, long[] blocks) {
    index.record(blocks, workerId);
  }

  int indexedBlocks() {
    return index.size();
  }
}
