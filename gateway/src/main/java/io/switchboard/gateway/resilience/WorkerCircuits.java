package io.switchboard.gateway.resilience;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A circuit breaker per worker, as this gateway sees it: after {@code failureThreshold} failures in a row (the
 * worker failed, vanished, or sent no first token in time; not "busy", not a bad request) the circuit opens
 * and the worker gets no requests for {@code openMs}; then one request goes through as a probe (half-open): if
 * it succeeds the circuit closes, if it fails it opens again for twice as long (up to 8 × {@code openMs}). A
 * worker that keeps failing is thus tried rarely instead of costing every client a retry. Used only on the
 * gateway verticle's event loop.
 */
public final class WorkerCircuits {

  private final int failureThreshold;
  private final long openNanos;
  private final LongSupplier clock;
  private final Map<String, Circuit> circuits = new HashMap<>();

  private static final class Circuit {
    int consecutiveFailures;
    int timesOpened;
    long openUntilNanos;
    boolean open;
    boolean probeInFlight;
    String lastFailure;
  }

  /** @param failureThreshold failures in a row that open a circuit; 0 turns circuit breaking off */
  public WorkerCircuits(int failureThreshold, long openMs, LongSupplier clock) {
    this.failureThreshold = failureThreshold;
    this.openNanos = openMs * 1_000_000L;
    this.clock = clock;
  }

  /** Whether a request may be sent to the worker now (closed, or half-open with no probe under way). */
  public boolean allows(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null || !circuit.open) {
      return true;
    }
    return clock.getAsLong() >= circuit.openUntilNanos && !circuit.probeInFlight;
  }

  /** A request was sent to the worker: if its circuit is half-open, this request is the probe. */
  public void routed(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit != null && circuit.open) {
      circuit.probeInFlight = true;
    }
  }

  public void succeeded(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit != null) {
      circuits.remove(workerId);
    }
  }

  /** The worker failed a request; returns true when this failure opened (or re-opened) its circuit. */
  public boolean failed(String workerId, String why) {
    if (failureThreshold == 0 || workerId == null) {
      return false;
    }
    Circuit circuit = circuits.computeIfAbsent(workerId, id -> new Circuit());
    circuit.consecutiveFailures++;
    circuit.lastFailure = why;
    boolean probeFailed = circuit.open && circuit.probeInFlight;
    if (probeFailed || (!circuit.open && circuit.consecutiveFailures >= failureThreshold)) {
      circuit.open = true;
      circuit.probeInFlight = false;
      long backoff = openNanos << Math.min(3, circuit.timesOpened);
      circuit.timesOpened++;
      circuit.openUntilNanos = clock.getAsLong() + backoff;
      return true;
    }
    return false;
  }

  /** Why the worker gets no requests now, in an operator's words; null when its circuit lets them through. */
  public String why(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null || !circuit.open) {
      return null;
    }
    long waitMs = Math.max(0, (circuit.openUntilNanos - clock.getAsLong()) / 1_000_000);
    return "circuit open after " + circuit.consecutiveFailures + " failures in a row (last: " + circuit.lastFailure
        + "); " + (circuit.probeInFlight ? "a probe request is under way"
        : waitMs == 0 ? "the next request will probe it" : "the next probe in " + waitMs + " ms");
  }

  /** The circuit as /admin/cluster shows it. */
  public JsonObject status(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null) {
      return new JsonObject().put("state", "closed");
    }
    String state = !circuit.open ? "closed" : clock.getAsLong() >= circuit.openUntilNanos ? "half-open" : "open";
    JsonObject json = new JsonObject().put("state", state).put("consecutiveFailures", circuit.consecutiveFailures)
        .put("lastFailure", circuit.lastFailure);
    String why = why(workerId);
    return why == null ? json : json.put("why", why);
  }
}
