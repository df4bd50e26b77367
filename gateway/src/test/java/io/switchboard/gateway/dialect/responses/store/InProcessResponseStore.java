package io.switchboard.gateway.dialect.responses.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/** A small store for tests: what was put is there until removed (oldest dropped past 1,000), and can be looked at. */
public final class InProcessResponseStore implements ResponseStore {

  private final Map<String, JsonObject> entries = new LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, JsonObject> eldest) {
      return size() > 1000;
    }
  };

  @Override
  public synchronized Future<Void> put(String id, JsonObject stored) {
    entries.put(id, stored.copy());
    return Future.succeededFuture();
  }

  @Override
  public synchronized Future<JsonObject> get(String id) {
    JsonObject stored = entries.get(id);
    return Future.succeededFuture(stored == null ? null : stored.copy());
  }

  @Override
  public synchronized Future<Boolean> remove(String id) {
    return Future.succeededFuture(entries.remove(id) != null);
  }

  public synchronized JsonObject stored(String id) {
    return entries.get(id);
  }
}
