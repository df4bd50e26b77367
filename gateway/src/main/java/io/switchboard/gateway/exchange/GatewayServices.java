package io.switchboard.gateway.exchange;

import io.switchboard.gateway.admission.AdmissionQueue;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.config.GatewayOptions;
import io.switchboard.gateway.models.ModelPlacement;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.resilience.RetryBackoff;
import io.switchboard.gateway.resilience.WorkerCircuits;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.registry.WorkerRegistry;
import io.switchboard.gateway.routing.WorkerRouter;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.gateway.tracing.RequestSpans;
import io.switchboard.runtime.time.DeadlineSweep;

/**
 * What the HTTP handlers of one gateway verticle share.
 *
 * @param exchangeListeners told what every exchange does (metrics, spans, token charges, access log); one for the
 *                      gateway, shared by its requests
 * @param deadlines     per-request timeouts of this verticle's event loop (checked every 50 ms)
 * @param nodeId        this node's cluster id (sent to workers, so they drop work if this node leaves)
 * @param replyAddress  where workers send this gateway's stream chunks
 * @param placement     where models that are loaded nowhere are loaded, and the loads under way
 */
public record GatewayServices(GatewayOptions options, WorkerRegistry registry, WorkerRouter router,
                              RequestPlane plane, GatewayMetrics metrics, AdmissionQueue admission, WorkerCircuits circuits,
                              RetryBackoff retryBackoff, InFlightRequests inFlight, RequestSpans spans,
                              RateLimiter rateLimiter, ExchangeListener exchangeListeners, DeadlineSweep deadlines,
                              String nodeId,
                              String replyAddress, ModelPlacement placement) {
}
