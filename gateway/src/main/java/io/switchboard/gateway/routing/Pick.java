package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

/**
 * A routing decision.
 *
 * @param reason        why this worker, one word for metrics and logs: {@code turn} (round-robin), {@code random},
 *                      {@code load} (least loaded), {@code prefix} (holds the longest useful prefix),
 *                      {@code session} (the session's worker), {@code balance} (the balance guard kept a busier
 *                      choice from being made)
 * @param matchedChars  prompt characters the router believes the worker has cached (prefix-aware; else 0)
 * @param uncachedChars prompt characters the router expects the worker to compute before its first token
 */
public record Pick(WorkerState worker, String reason, int matchedChars, int uncachedChars) {

  /** A decision made without looking at caches: the whole prompt is expected to be computed. */
  public static Pick of(WorkerState worker, String reason, RouteRequest request) {
    return new Pick(worker, reason, 0, request.prompt().length());
  }
}
