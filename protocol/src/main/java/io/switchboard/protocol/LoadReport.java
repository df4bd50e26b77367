package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

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
 *                  candidate's state and rejection reason); empty for engines with nothing to add
 */
public record LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots,
                         int slots, boolean draining, long sentAtMs, JsonObject engine) {

  public LoadReport {
    engine = engine == null ? new JsonObject() : engine;
  }

  public LoadReport(String workerId, String nodeId, String model, int inFlight, int queued, int freeSlots, int slots,
                    boolean draining, long sentAtMs) {
    this(workerId, nodeId, model, inFlight, queued, freeSlots, slots, draining, sentAtMs, null);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("workerId", workerId)
        .put("nodeId", nodeId)
        .put("model", model)
        .put("inFlight", inFlight)
        .put("queued", queued)
        .put("freeSlots", freeSlots)
        .put("slots", slots)
        .put("draining", draining)
        .put("sentAtMs", sentAtMs)
        .put("engine", engine);
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
        json.getJsonObject("engine"));
  }
}
