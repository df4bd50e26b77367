package io.switchboard.gateway.routing;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/** The routing policies a gateway can be configured with, by name. */
public final class RoutingPolicies {

  public static final List<String> NAMES = List.of(PrefixAwarePolicy.NAME, RoundRobinPolicy.NAME, RandomPolicy.NAME,
      LeastLoadedPolicy.NAME, PowerOfTwoChoicesPolicy.NAME, SessionAffinityPolicy.NAME);

  private RoutingPolicies() {
  }

  /** A new instance of the named policy (one per model per gateway verticle). */
  public static RoutingPolicy create(String name, RouterOptions options, LongSupplier clock,
                                     PrefixAwarePolicy.Listener prefixListener) {
    return switch (name) {
      case PrefixAwarePolicy.NAME -> new PrefixAwarePolicy(options, clock, prefixListener);
      case RoundRobinPolicy.NAME -> new RoundRobinPolicy();
      case RandomPolicy.NAME -> new RandomPolicy(new SplittableRandom());
      case LeastLoadedPolicy.NAME -> new LeastLoadedPolicy();
      case PowerOfTwoChoicesPolicy.NAME -> new PowerOfTwoChoicesPolicy(new SplittableRandom());
      case SessionAffinityPolicy.NAME -> new SessionAffinityPolicy(options, clock);
      default -> throw new IllegalArgumentException("unknown routing policy '" + name + "' (allowed: " + NAMES + ")");
    };
  }
}
