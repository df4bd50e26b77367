package io.switchboard.gateway.resilience;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A circuit breaker per worker, as this gateway sees it: after {@code failureThreshold} failures in a row (the
 * worker failed, vanished, or sent no first token in time; not "busy", not a bad request, not a client that went
 * away) the circuit opens and the worker gets no requests for {@code openMs}; then one request goes through as a
 * probe (half-open). A probe the worker answers (its first token, or a whole answer) closes the circuit; a probe
 * the worker fails opens it again for twice as long (up to 8 × {@code openMs}); a probe that ends for any other
 * reason gives the permit back, so the next request probes. A probe that never reports back is given up after
 * {@code probeTimeoutMs} and the next request probes. Nothing, therefore, keeps a worker out for longer than its
 * backoff plus one probe timeout.
 *
 * <p>Every request sent to a worker holds a {@link Permit} from {@link #routed(String)} and ends it exactly once:
 * {@link Permit#succeeded()}, {@link Permit#failed(String)} or {@link Permit#released()} (the first counts, later
 * ones are ignored, so a caller may release defensively when it is done). Only workers the registry knows get a
 * circuit, and {@link #forget(String)} drops a worker's circuit when it leaves, so the circuits are bounded by the
 * live workers. Used only on the gateway verticle's event loop.
 */
public final class WorkerCircuits {

  /** Longest backoff, as a multiple of the open time: 2^3. */
  private static final int MAX_DOUBLINGS = 3;

  private final int failureThreshold;
  private final long openNanos;
  private final long probeTimeoutNanos;
  private final LongSupplier clock;
  private final Predicate<String> known;
  private final Map<String, Circuit> circuits = new HashMap<>();

  /** A worker's circuit; a worker without one is closed with no failures counted. */
  private static final class Circuit {
    int consecutiveFailures;
    int timesOpened;
    long openUntilNanos;
    boolean open;
    String lastFailure;
    /** The permit of the request probing the worker now; null when the next request may probe. */
    Permit probe;
    long probeSinceNanos;
    /** Why the last probe ended without a verdict (busy, client gone, given up); for the operator. */
    String probeReleased;
  }

  /**
   * @param failureThreshold failures in a row that open a circuit; 0 turns circuit breaking off
   * @param probeTimeoutMs   how long a probe may go without reporting before the next request may probe
   * @param clock            nanoseconds, monotonic
   * @param known            whether the registry knows a worker now (a departed one gets no circuit)
   */
  public WorkerCircuits(int failureThreshold, long openMs, long probeTimeoutMs, LongSupplier clock,
                        Predicate<String> known) {
    this.failureThreshold = failureThreshold;
    this.openNanos = openMs * 1_000_000L;
    this.probeTimeoutNanos = probeTimeoutMs * 1_000_000L;
    this.clock = clock;
    this.known = known;
  }

  /**
   * One request's hold on a worker's circuit. If the circuit was half-open when the request was routed, this is
   * its probe. Ended once; later calls do nothing.
   */
  public final class Permit {
    private final String workerId;
    private boolean probe;
    private boolean ended;

    private Permit(String workerId) {
      this.workerId = workerId;
    }

    public String workerId() {
      return workerId;
    }

    /** Whether this request is the probe of a half-open circuit. */
    public boolean probe() {
      return probe;
    }

    /**
     * The worker answered (its first token): a probe closes the circuit now rather than when its answer ends.
     * Does not end the permit; an ordinary request's answer changes nothing yet.
     */
    public void answered() {
      if (probe && !ended) {
        probe = false;
        circuits.remove(workerId);
      }
    }

    /** The worker served the request: its circuit closes and its failures are forgotten. */
    public void succeeded() {
      if (end()) {
        circuits.remove(workerId);
      }
    }

    /**
     * The worker failed the request (it failed, vanished, or sent no first token in time). Returns true when this
     * failure opened (or re-opened) its circuit.
     */
    public boolean failed(String why) {
      return end() && failure(this, why);
    }

    /**
     * The request ended for a reason that says nothing about the worker (it was busy or stopping, the deadline
     * passed, the client went away or stopped reading): a probe gives the next request the chance to probe.
     */
    public void released() {
      released("the probe request ended without a verdict");
    }

    /** As {@link #released()}, saying why (shown while the circuit waits for the next probe). */
    public void released(String why) {
      if (end()) {
        Circuit circuit = circuits.get(workerId);
        if (circuit != null && circuit.probe == this) {
          circuit.probe = null;
          circuit.probeReleased = why;
        }
      }
    }

    private boolean end() {
      if (ended) {
        return false;
      }
      ended = true;
      return true;
    }
  }

  /** Whether a request may be sent to the worker now (closed, or half-open with no probe under way). */
  public boolean allows(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null || !circuit.open) {
      return true;
    }
    long now = clock.getAsLong();
    return now - circuit.openUntilNanos >= 0 && !probing(circuit, now);
  }

  /**
   * A request is sent to the worker; the returned permit must be ended once. If the circuit is half-open, this
   * request is its probe.
   */
  public Permit routed(String workerId) {
    Permit permit = new Permit(workerId);
    Circuit circuit = circuits.get(workerId);
    if (circuit != null && circuit.open) {
      permit.probe = true;
      circuit.probe = permit;
      circuit.probeSinceNanos = clock.getAsLong();
      circuit.probeReleased = null;
    }
    return permit;
  }

  /** The worker left the registry: its circuit goes with it (a worker coming back under its id starts closed). */
  public void forget(String workerId) {
    circuits.remove(workerId);
  }

  /** Circuits held now (workers with failures counted or an open circuit). */
  public int size() {
    return circuits.size();
  }

  /** Why the worker gets no requests now, in an operator's words; null when its circuit lets them through. */
  public String why(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null || !circuit.open) {
      return null;
    }
    long now = clock.getAsLong();
    long waitMs = Math.max(0, (circuit.openUntilNanos - now) / 1_000_000);
    String next = probing(circuit, now)
        ? "a probe request is under way (given up after " + probeTimeoutNanos / 1_000_000 + " ms without a verdict)"
        : waitMs > 0 ? "the next probe in " + waitMs + " ms"
        : "the next request will probe it" + (circuit.probeReleased == null ? "" : " (" + circuit.probeReleased + ")");
    return "circuit open after " + circuit.consecutiveFailures + " failures in a row (last: " + circuit.lastFailure
        + "); " + next;
  }

  /** The circuit as /admin/cluster shows it. */
  public JsonObject status(String workerId) {
    Circuit circuit = circuits.get(workerId);
    if (circuit == null) {
      return new JsonObject().put("state", "closed");
    }
    long now = clock.getAsLong();
    String state = !circuit.open ? "closed" : now - circuit.openUntilNanos >= 0 ? "half-open" : "open";
    JsonObject json = new JsonObject().put("state", state).put("consecutiveFailures", circuit.consecutiveFailures)
        .put("lastFailure", circuit.lastFailure);
    String why = why(workerId);
    return why == null ? json : json.put("why", why);
  }

  /** Whether a probe holds the circuit now; a probe past the probe timeout is given up here. */
  private boolean probing(Circuit circuit, long now) {
    if (circuit.probe == null) {
      return false;
    }
    if (now - circuit.probeSinceNanos >= probeTimeoutNanos) {
      circuit.probe = null;
      circuit.probeReleased = "the last probe sent no verdict within " + probeTimeoutNanos / 1_000_000 + " ms";
      return false;
    }
    return true;
  }

  private boolean failure(Permit permit, String why) {
    if (failureThreshold == 0 || !known.test(permit.workerId)) {
      return false;
    }
    Circuit circuit = circuits.computeIfAbsent(permit.workerId, id -> new Circuit());
    circuit.consecutiveFailures++;
    circuit.lastFailure = why;
    boolean probeFailed = circuit.open && circuit.probe == permit;
    if (probeFailed || (!circuit.open && circuit.consecutiveFailures >= failureThreshold)) {
      circuit.open = true;
      circuit.probe = null;
      circuit.probeReleased = null;
      long backoff = openNanos << Math.min(MAX_DOUBLINGS, circuit.timesOpened);
      circuit.timesOpened++;
      circuit.openUntilNanos = clock.getAsLong() + backoff;
      return true;
    }
    return false;
  }
}
