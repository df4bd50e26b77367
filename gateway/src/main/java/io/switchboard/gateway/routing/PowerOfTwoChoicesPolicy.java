package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Two workers drawn at random, the less utilized of them taken. Nearly as balanced as least-loaded while
 * reading only two workers' load, and several gateways acting on the same stale load reports do not all pile
 * onto the one worker that looks idle.
 */
public final class PowerOfTwoChoicesPolicy implements RoutingPolicy {

  public static final String NAME = "power-of-two";

  private final RandomGenerator random;

  public PowerOfTwoChoicesPolicy(RandomGenerator random) {
    this.random = random;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    int n = candidates.size();
    if (n == 1) {
      return Pick.of(candidates.get(0), "load", request);
    }
    int first = random.nextInt(n);
    int second = random.nextInt(n - 1);
    if (second >= first) {
      second++;
    }
    WorkerState a = candidates.get(first);
    WorkerState b = candidates.get(second);
    return Pick.of(b.utilization() < a.utilization() ? b : a, "load", request);
  }
}
