package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A worker's load, published every second on {@link Addresses#LOAD_REPORTS}. A gateway stops routing to a
 * worker whose last report is older than its silence limit (3 s by default): that is how a hung or
 * partitioned worker leaves the routing set before cluster membership notices.
 *
 * @param inFlight  generations running now
 * @param queued    generations admitted and waiting for a slot
 * @param freeSlots slots free now
 * @param slots     total slots
 * @param draining  true while the worker finishes in-flight work before shutting down (takes no new work)
 * @param sentAtMs  sender's wall clock when sent
 * @param engine    what the engine reports of itself (llamacpp: its llama-server and its rpc pool with every
 *                  candidate's state and rejection reason; openai: its backend's kind, health and load from
 *                  its metrics); empty for engines with nothing to add
 * @param models    every model name the worker serves now (an openai worker learns them from its backend, so
 *                  they change at run time); empty means just {@code model}
 * @param embeddingModels the served models that also answer {@code /v1/embeddings}
 * @param unavailable null when the engine can take work; otherwise why not, in an operator's words (its
 *                  backend is down, restarting, ...): the gateway does not route to it and says why
 * @param nativeDialects the dialects the worker's backend serves natively now (an openai worker probes its backend
 *                  when it comes up); null when the worker does not report them (then its record's list holds)
 * @param catalog   a worker over a model directory: every model it can serve with its size and state now
 *                  (key {@code library}; absent for other workers). {@code models} then lists every name and
 *                  alias it serves, loaded or not: a request for an unloaded one loads it first
 */
public record LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots,
                         int slots, boolean draining, long sentAtMs, JsonObject engine, List<String> models,
                         List<String> embeddingModels, String unavailable, List<String> nativeDialects,
                         ModelCatalog catalog) {

  public LoadReport {
    engine = engine == null ? new JsonObject() : engine;
    nativeDialects = nativeDialects == null ? null : List.copyOf(nativeDialects);
    models = models == null ? List.of() : List.copyOf(models);
    embeddingModels = embeddingModels == null ? List.of() : List.copyOf(embeddingModels);
    catalog = catalog == null ? ModelCatalog.EMPTY : catalog;
  }

  /** A report of a worker without a model directory. */
  public LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots, int slots,
                    boolean draining, long sentAtMs, JsonObject engine, List<String> models,
                    List<String> embeddingModels, String unavailable, List<String> nativeDialects) {
    this(workerId, nodeId, model, inFlight, queued, freeSlots, slots, draining, sentAtMs, engine, models,
        embeddingModels, unavailable, nativeDialects, ModelCatalog.EMPTY);
  }

  public LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots, int slots,
                    boolean draining, long sentAtMs) {
    this(workerId, nodeId, model, inFlight, queued, freeSlots, slots, draining, sentAtMs, null, null, null, null);
  }

  /** A report that says nothing of native dialects (the worker's record holds). */
  public LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots, int slots,
                    boolean draining, long sentAtMs, JsonObject engine, List<String> models,
                    List<String> embeddingModels, String unavailable) {
    this(workerId, nodeId, model, inFlight, queued, freeSlots, slots, draining, sentAtMs, engine, models,
        embeddingModels, unavailable, null);
  }

  /** The models served now: {@link #models()}, or {@link #model()} alone when that list is empty. */
  public List<String> servedModels() {
    return models.isEmpty() ? (model == null || model.isEmpty() ? List.of() : List.of(model)) : models;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("workerId", workerId)
        .put("nodeId", nodeId)
        .put("model", model)
        .put("inFlight", inFlight)
        .put("queued", queued)
        .put("freeSlots", freeSlots)
        .put("slots", slots)
        .put("draining", draining)
        .put("sentAtMs", sentAtMs)
        .put("engine", engine)
        .put("models", new JsonArray(models))
        .put("embeddingModels", new JsonArray(embeddingModels))
        .put("unavailable", unavailable);
    if (nativeDialects != null) {
      json.put("nativeDialects", new JsonArray(nativeDialects));
    }
    if (!catalog.isEmpty()) {
      json.put(ModelCatalog.KEY, catalog.toJson());
    }
    return json;
  }

  public static LoadReport fromJson(JsonObject json) {
    return new LoadReport(
        json.getString("workerId"),
        json.getString("nodeId"),
        json.getString("model"),
        json.getInteger("inFlight", 0),
        json.getInteger("queued", 0),
        json.getInteger("freeSlots", 0),
        json.getInteger("slots", 0),
        json.getBoolean("draining", false),
        json.getLong("sentAtMs", 0L),
        json.getJsonObject("engine"),
        strings(json.getJsonArray("models")),
        strings(json.getJsonArray("embeddingModels")),
        json.getString("unavailable"),
        json.containsKey("nativeDialects") ? strings(json.getJsonArray("nativeDialects")) : null,
        ModelCatalog.fromJson(json.getValue(ModelCatalog.KEY)));
  }

  private static List<String> strings(JsonArray array) {
    return array == null ? List.of() : array.stream().map(String::valueOf).toList();
  }
}
