package io.switchboard.gateway.dialect.responses.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Where the Responses API keeps completed responses ({@code store: true}) so that {@code previous_response_id},
 * {@code GET /v1/responses/:id} and {@code DELETE /v1/responses/:id} find them. What is stored under a response id:
 * {@code {"response": <the response object>, "messages": <the conversation as chat messages, this answer
 * included>, "owner": <the API key's name>}}.
 */
public interface ResponseStore {

  Future<Void> put(String id, JsonObject stored);

  /** @return what was stored under {@code id}, or null if unknown or expired */
  Future<JsonObject> get(String id);

  /** @return whether something was stored under {@code id} (and is now gone) */
  Future<Boolean> remove(String id);
}
