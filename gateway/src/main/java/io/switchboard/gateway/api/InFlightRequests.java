package io.switchboard.gateway.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests this node's gateway is serving now, oldest first, for {@code GET /admin/requests}: what each waits
 * for, where it runs and how far it got. Holds each open request once, by itself rather than by its id: a client
 * picks its {@code x-request-id}, and two requests with the same one are two entries. One list serves every gateway
 * instance of the node (node.eventLoops), so the page shows them all whichever instance answers it; safe to use from
 * any thread. A request of another instance is described from that instance's fields as they stand, which may be a
 * moment old: this is a view for an operator, never an input to a decision.
 */
public final class InFlightRequests {

  /** A request that can say where it stands. */
  public interface Described {
    JsonObject describe(long nowNanos);
  }

  private final Map<Described, Long> open = new ConcurrentHashMap<>();
  private final AtomicLong arrivals = new AtomicLong();

  public void opened(Described request) {
    open.putIfAbsent(request, arrivals.incrementAndGet());
  }

  public void closed(Described request) {
    open.remove(request);
  }

  public int size() {
    return open.size();
  }

  /** Every open request, oldest first; {@code model} null for all. */
  public JsonArray snapshot(String model) {
    long now = System.nanoTime();
    List<Map.Entry<Described, Long>> inOrder = new ArrayList<>(open.entrySet());
    inOrder.sort(Map.Entry.comparingByValue());
    List<JsonObject> described = new ArrayList<>();
    for (Map.Entry<Described, Long> request : inOrder) {
      JsonObject entry = request.getKey().describe(now);
      if (model == null || model.equals(entry.getString("model"))) {
        described.add(entry);
      }
    }
    return new JsonArray(described);
  }
}
