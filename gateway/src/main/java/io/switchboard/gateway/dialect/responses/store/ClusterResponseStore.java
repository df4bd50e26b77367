package io.switchboard.gateway.dialect.responses.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

/**
 * Stored responses in the cluster's shared map ({@link ResponseStoreOptions#MAP_NAME}), so any gateway answers for
 * them. Entries are JSON text (plain strings cross the cluster's deserialization allowlist) and expire after
 * {@code gateway.responses.ttlSeconds}; the node bounds each member's share of the map by
 * {@code gateway.responses.maxMegabytes}, evicting the least recently used.
 */
public final class ClusterResponseStore implements ResponseStore {

  private final Future<AsyncMap<String, String>> map;
  private final long ttlMs;

  public ClusterResponseStore(Vertx vertx, ResponseStoreOptions options) {
    this.map = vertx.sharedData().<String, String>getAsyncMap(ResponseStoreOptions.MAP_NAME);
    this.ttlMs = options.getTtlSeconds() * 1000L;
  }

  @Override
  public Future<Void> put(String id, JsonObject stored) {
    String text = stored.encode();
    return map.compose(entries -> entries.put(id, text, ttlMs));
  }

  @Override
  public Future<JsonObject> get(String id) {
    return map.compose(entries -> entries.get(id)).map(text -> text == null ? null : new JsonObject(text));
  }

  @Override
  public Future<Boolean> remove(String id) {
    return map.compose(entries -> entries.remove(id)).map(removed -> removed != null);
  }
}
