package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Takes the model's workers in turn. Not thread-safe: one instance per gateway verticle. */
public final class RoundRobinPolicy implements RoutingPolicy {

  private final Map<String, Integer> next = new HashMap<>();

  @Override
  public WorkerState pick(String model, List<WorkerState> candidates) {
    int turn = next.merge(model, 1, Integer::sum) - 1;
    if (turn == Integer.MAX_VALUE - 1) {
      next.put(model, 0);
    }
    return candidates.get(Math.floorMod(turn, candidates.size()));
  }
}
