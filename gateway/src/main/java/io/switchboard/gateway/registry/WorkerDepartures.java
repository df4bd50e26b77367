package io.switchboard.gateway.registry;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The last workers that left routing (their node left, they withdrew, their record vanished), newest first,
 * so that "model not found" can become "its worker left 4 s ago because its node left the cluster". A worker
 * that comes back is forgotten here. Used only on the gateway verticle's event loop.
 */
public final class WorkerDepartures {

  /** One worker that left: what it served, where it ran, why it left and when (epoch ms). */
  public record Departure(String workerId, List<String> models, String nodeId, String reason, long atMs) {
  }

  private final int capacity;
  private final LongSupplier clockMs;
  private final LinkedList<Departure> recent = new LinkedList<>();

  public WorkerDepartures(int capacity, LongSupplier clockMs) {
    this.capacity = capacity;
    this.clockMs = clockMs;
  }

  void departed(String workerId, List<String> models, String nodeId, String reason) {
    returned(workerId);
    recent.addFirst(new Departure(workerId, List.copyOf(models), nodeId, reason, clockMs.getAsLong()));
    while (recent.size() > capacity) {
      recent.removeLast();
    }
  }

  /** What a resync says of a record it no longer finds: true, but not why. */
  static final String RECORD_GONE = "its discovery record is gone";

  /**
   * The node of some departed workers left the cluster: for those whose records a resync found gone before the
   * membership event arrived, that is the reason. (A worker that withdrew first keeps that reason: it stopped.)
   */
  void nodeLeft(String nodeId, String reason) {
    recent.replaceAll(d -> d.nodeId().equals(nodeId) && d.reason().equals(RECORD_GONE)
        ? new Departure(d.workerId(), d.models(), d.nodeId(), reason, d.atMs()) : d);
  }

  void returned(String workerId) {
    recent.removeIf(d -> d.workerId().equals(workerId));
  }

  /** The latest departure of a worker that served {@code model}, if any is remembered. */
  public Optional<Departure> lastServing(String model) {
    for (Iterator<Departure> it = recent.iterator(); it.hasNext(); ) {
      Departure departure = it.next();
      if (departure.models().contains(model)) {
        return Optional.of(departure);
      }
    }
    return Optional.empty();
  }

  /** "worker W on node N left 12 s ago: reason". */
  public String describe(Departure departure) {
    return "worker " + departure.workerId() + " on node " + departure.nodeId() + " left "
        + Math.max(0, (clockMs.getAsLong() - departure.atMs()) / 1000) + " s ago: " + departure.reason();
  }

  public JsonArray toJson() {
    JsonArray list = new JsonArray();
    long now = clockMs.getAsLong();
    for (Departure departure : recent) {
      list.add(new JsonObject().put("workerId", departure.workerId()).put("models", new JsonArray(departure.models()))
          .put("node", departure.nodeId()).put("reason", departure.reason()).put("agoMs", now - departure.atMs()));
    }
    return list;
  }
}
