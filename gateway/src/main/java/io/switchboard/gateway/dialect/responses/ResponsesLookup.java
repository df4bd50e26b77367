package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.dialect.responses.store.ResponseStore;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.switchboard.gateway.http.ErrorResponder;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/responses/:id} (the stored response object) and {@code DELETE /v1/responses/:id}. A response is
 * seen only with the API key that made it; to any other key it does not exist.
 */
public final class ResponsesLookup {

  private final ResponseStore store;

  public ResponsesLookup(ResponseStore store) {
    this.store = store;
  }

  public void get(RoutingContext ctx) {
    whenOwned(ctx, (id, stored) -> ctx.response().putHeader("content-type", "application/json")
        .end(stored.getJsonObject("response", new JsonObject()).toBuffer()));
  }

  /**
   * Reads the response the path names and runs {@code then} on the request's context if the caller's key owns it;
   * else a 404, as for an unknown id (a key learns nothing of another's responses).
   */
  private void whenOwned(RoutingContext ctx, java.util.function.BiConsumer<String, JsonObject> then) {
    String id = ctx.pathParam("id");
    String owner = ResponsesDialect.owner(ctx);
    Context context = Vertx.currentContext();
    store.get(id).onComplete(got -> ResponsesDialect.onContext(context, () -> {
      if (unreachable(ctx, got)) {
        return;
      }
      JsonObject stored = got.result();
      if (stored == null || !owner.equals(stored.getString("owner", owner))) {
        ErrorResponder.send(ctx, notFound(id));
        return;
      }
      then.accept(id, stored);
    }));
  }

  public void delete(RoutingContext ctx) {
    Context context = Vertx.currentContext();
    // Read first: a key may delete only its own responses.
    whenOwned(ctx, (id, stored) -> store.remove(id).onComplete(removed -> ResponsesDialect.onContext(context, () -> {
      if (unreachable(ctx, removed)) {
        return;
      }
      if (!Boolean.TRUE.equals(removed.result())) {
        ErrorResponder.send(ctx, notFound(id));
        return;
      }
      ctx.response().putHeader("content-type", "application/json").end(new JsonObject().put("id", id)
          .put("object", "response.deleted").put("deleted", true).toBuffer());
    })));
  }

  static ApiError notFound(String id) {
    return new ApiError(404, "invalid_request_error", "response_not_found", "response_id",
        "Response with id '" + ClientText.shown(id) + "' not found. Responses are kept for a limited time, and "
            + "only those created with 'store' true (the default).");
  }

  private static boolean unreachable(RoutingContext ctx, AsyncResult<?> result) {
    if (result.succeeded()) {
      return false;
    }
    ErrorResponder.send(ctx, new ApiError(503, "service_unavailable_error", "response_store_unavailable", null,
        "The stored responses cannot be reached (" + result.cause().getMessage() + "). Retry shortly."));
    return true;
  }
}
