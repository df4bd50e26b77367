package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The gateway's router: one policy instance per model (each model's policy from configuration), and the
 * bookkeeping every policy relies on, namely counting the requests this gateway has open on each worker from
 * the moment one is sent there until it ends. Used only on the gateway verticle's event loop.
 */
public final class WorkerRouter {

  private final Function<String, String> policyOfModel;
  private final RouterOptions options;
  private final LongSupplier clock;
  private final PrefixAwarePolicy.Listener prefixListener;
  private final Map<String, RoutingPolicy> policies = new HashMap<>();

  /**
   * @param policyOfModel  the configured policy name for a model
   * @param prefixListener told what prefix-aware policies record, to share it with other gateways; may be null
   */
  public WorkerRouter(Function<String, String> policyOfModel, RouterOptions options, LongSupplier clock,
                      PrefixAwarePolicy.Listener prefixListener) {
    this.policyOfModel = policyOfModel;
    this.options = options;
    this.clock = clock;
    this.prefixListener = prefixListener;
  }

  /**
   * Picks a worker for {@code request} and counts the request as open on it (and its expected prefill as
   * pending) until the returned route is released.
   */
  public Route route(RouteRequest request, List<WorkerState> candidates) {
    return new Route(policyOf(request.model()).pick(request, candidates));
  }

  public String policyName(String model) {
    return policyOf(model).name();
  }

  /** Prefix blocks another gateway sent to {@code workerId} for {@code model}. */
  public void learn(String model, String workerId, long[] blocks) {
    if (policyOf(model) instanceof PrefixAwarePolicy prefixAware) {
      prefixAware.learn(workerId, blocks);
    }
  }

  private RoutingPolicy policyOf(String model) {
    return policies.computeIfAbsent(model,
        m -> RoutingPolicies.create(policyOfModel.apply(m), options, clock, prefixListener));
  }
}
