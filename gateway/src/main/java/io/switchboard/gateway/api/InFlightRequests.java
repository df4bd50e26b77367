package io.switchboard.gateway.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The requests this gateway is serving now, oldest first, for {@code GET /admin/requests}: what each waits for,
 * where it runs and how far it got. Used only on the gateway verticle's event loop.
 */
public final class InFlightRequests {

  /** A request that can say where it stands. */
  interface Described {
    JsonObject describe(long nowNanos);
  }

  private final Map<String, Described> open = new LinkedHashMap<>();

  void opened(String requestId, Described request) {
    open.put(requestId, request);
  }

  void closed(String requestId) {
    open.remove(requestId);
  }

  public int size() {
    return open.size();
  }

  /** Every open request, oldest first; {@code model} null for all. */
  public JsonArray snapshot(String model) {
    long now = System.nanoTime();
    List<JsonObject> described = new ArrayList<>();
    for (Described request : open.values()) {
      JsonObject entry = request.describe(now);
      if (model == null || model.equals(entry.getString("model"))) {
        described.add(entry);
      }
    }
    return new JsonArray(described);
  }
}
