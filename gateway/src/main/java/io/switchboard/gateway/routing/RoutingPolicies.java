package io.switchboard.gateway.routing;

import java.util.Set;

/** The routing policies a gateway can be configured with, by name. */
public final class RoutingPolicies {

  public static final String ROUND_ROBIN = "round-robin";
  public static final Set<String> NAMES = Set.of(ROUND_ROBIN);

  private RoutingPolicies() {
  }

  public static RoutingPolicy create(String name) {
    if (ROUND_ROBIN.equals(name)) {
      return new RoundRobinPolicy();
    }
    throw new IllegalArgumentException("unknown routing policy '" + name + "' (allowed: " + NAMES + ")");
  }
}
