package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;

/**
 * The worker with the fewest open requests per slot ({@link WorkerState#utilization()}). Ties are broken in
 * turn, so idle workers share a burst instead of the first one taking it all.
 */
public final class LeastLoadedPolicy implements RoutingPolicy {

  public static final String NAME = "least-loaded";

  private int turn;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    return Pick.of(leastLoaded(candidates), "load", request);
  }

  /** The least utilized candidate, ties taken in turn. */
  WorkerState leastLoaded(List<WorkerState> candidates) {
    int n = candidates.size();
    int start = Math.floorMod(turn, n);
    turn = turn == Integer.MAX_VALUE ? 0 : turn + 1;
    WorkerState best = null;
    double bestUtilization = Double.MAX_VALUE;
    for (int k = 0, at = start; k < n; k++, at = at + 1 == n ? 0 : at + 1) {
      WorkerState worker = candidates.get(at);
      double utilization = worker.utilization();
      if (utilization < bestUtilization) {
        best = worker;
        bestUtilization = utilization;
      }
    }
    return best;
  }
}
