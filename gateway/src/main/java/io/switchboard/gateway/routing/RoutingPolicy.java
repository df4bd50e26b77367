package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;

/**
 * Chooses the worker for one request among the model's routable workers. One instance serves one model on
 * one gateway verticle, on its event loop: implementations keep state (turns, prefix index, sessions) without
 * locks.
 */
public interface RoutingPolicy {

  /** The policy's name in configuration. */
  String name();

  /**
   * @param candidates routable workers of the request's model not tried yet for it, never empty, sorted by
   *                   worker id (the registry's order; policies may binary-search it)
   * @return one of {@code candidates}, and why
   */
  Pick pick(RouteRequest request, List<WorkerState> candidates);
}
