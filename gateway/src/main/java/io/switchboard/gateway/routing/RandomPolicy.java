package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;
import java.util.random.RandomGenerator;

/** Any worker, uniformly at random: stateless, so several gateways never synchronise on the same worker. */
public final class RandomPolicy implements RoutingPolicy {

  public static final String NAME = "random";

  private final RandomGenerator random;

  public RandomPolicy(RandomGenerator random) {
    this.random = random;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    return Pick.of(candidates.get(random.nextInt(candidates.size())), "random", request);
  }
}
