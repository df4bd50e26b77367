package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;

/** Takes the workers in turn, blind to load and cache: the baseline the other policies are measured against. */
public final class RoundRobinPolicy implements RoutingPolicy {

  public static final String NAME = "round-robin";

  private int turn;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    WorkerState worker = candidates.get(Math.floorMod(turn, candidates.size()));
    turn = turn == Integer.MAX_VALUE ? 0 : turn + 1;
    return Pick.of(worker, "turn", request);
  }
}
