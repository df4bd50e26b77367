package io.switchboard.gateway.dialect.responses;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** Stored Responses-API answers, by response id. */
public interface ResponseStore {

  Future<Void> put(String id, JsonObject stored);

  /** The stored entry, or null if the id is unknown or expired. */
  Future<JsonObject> get(String id);

  /** Whether there was an entry to remove. */
  Future<Boolean> remove(String id);
}
