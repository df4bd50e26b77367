package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;

/**
 * Stops cache- or session-affine routing from piling work onto one worker (the "death spiral" of cache-aware
 * routers, where one hot prefix, or every miss, lands on the same worker). A worker is overloaded when it has
 * at least {@code absThreshold} more open requests than the least loaded candidate and more than
 * {@code relThreshold} times the candidates' mean; affine policies then choose among the others.
 */
final class BalanceGuard {

  private final int absThreshold;
  private final double relThreshold;

  /** The candidates' least and mean open requests at one decision. */
  record Spread(int min, double mean) {
  }

  BalanceGuard(int absThreshold, double relThreshold) {
    this.absThreshold = absThreshold;
    this.relThreshold = relThreshold;
  }

  Spread spread(List<WorkerState> candidates) {
    int min = Integer.MAX_VALUE;
    long sum = 0;
    for (WorkerState worker : candidates) {
      int load = worker.routingLoad();
      min = Math.min(min, load);
      sum += load;
    }
    return new Spread(min, sum / (double) candidates.size());
  }

  /** Whether sending one more request to {@code worker} would leave the workers too unbalanced. */
  boolean overloaded(WorkerState worker, Spread spread) {
    return overloaded(worker.routingLoad(), spread);
  }

  /** Whether a worker with {@code load} open requests is too far above the others. */
  boolean overloaded(int load, Spread spread) {
    return load - spread.min() >= absThreshold && load > relThreshold * spread.mean();
  }
}
