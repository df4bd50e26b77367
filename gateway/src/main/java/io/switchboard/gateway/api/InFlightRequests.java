package io.switchboard.gateway.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The requests this gateway is serving now, oldest first, for {@code GET /admin/requests}: what each waits for,
 * where it runs and how far it got. Holds each open request once, by itself rather than by its id: a client picks
 * its {@code x-request-id}, and two requests with the same one are two entries. Used only on the gateway verticle's
 * event loop.
 */
public final class InFlightRequests {

  /** A request that can say where it stands. */
  public interface Described {
    JsonObject describe(long nowNanos);
  }

  private final Set<Described> open = new LinkedHashSet<>();

  public void opened(Described request) {
    open.add(request);
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
    List<JsonObject> described = new ArrayList<>();
    for (Described request : open) {
      JsonObject entry = request.describe(now);
      if (model == null || model.equals(entry.getString("model"))) {
        described.add(entry);
      }
    }
    return new JsonArray(described);
  }
}
