package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.List;

/** Chooses the worker for one request among the model's routable workers. */
public interface RoutingPolicy {

  /**
   * @param model      the requested model
   * @param candidates routable workers of that model, never empty, in a stable order
   * @return one of {@code candidates}
   */
  WorkerState pick(String model, List<WorkerState> candidates);
}
