package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One model a worker can serve from its model directory, as it announces it in its record and load reports
 * ({@link ModelCatalog}).
 *
 * @param name      the model name clients use (the file name without {@code .gguf})
 * @param sizeBytes the GGUF file's size (what loading it needs at least, before the KV cache)
 * @param state     {@link #UNLOADED}, {@link #LOADING}, {@link #LOADED}, {@link #UNLOADING} or {@link #FAILED};
 *                  a reader treats a state it does not know as "not loaded"
 * @param reason    why the last load failed (with {@link #FAILED}), naming the model, the worker and the cause;
 *                  null otherwise
 * @param aliases   other names requests may use for this model on this worker (per-model settings); empty for none
 * @param inFlight  requests running on the model now (a model with requests in flight is never unloaded)
 * @param overRpc   true while the model is loading, loaded or unloading over the worker's rpc pool (its layers on
 *                  the pool's rpc-servers, {@link RpcPoolRoom}); on the wire {@code "rpc": true}, absent otherwise
 * @param retryAtMs with {@link #FAILED}: when (ms since the epoch) the worker will try to load the model again after
 *                  its failed load (it backs off, {@code llamacpp.loadRetryBackoffMs}, doubling per failure; a
 *                  changed file or an operator's load command ends the back-off); 0 when it may be tried now. A load
 *                  that failed over the rpc pool backs off the same way (the entry is then no longer over the pool:
 *                  a failed model holds nothing)
 */
public record ModelEntry(String name, long sizeBytes, String state, String reason, List<String> aliases,
                         int inFlight, boolean overRpc, long retryAtMs) {

  public static final String UNLOADED = "unloaded";
  public static final String LOADING = "loading";
  public static final String LOADED = "loaded";
  public static final String UNLOADING = "unloading";
  public static final String FAILED = "failed";

  public ModelEntry {
    aliases = aliases == null ? List.of() : List.copyOf(aliases);
    retryAtMs = Math.max(0, retryAtMs);
  }

  /** A model on the worker's own machine that is not backing off. */
  public ModelEntry(String name, long sizeBytes, String state, String reason, List<String> aliases, int inFlight) {
    this(name, sizeBytes, state, reason, aliases, inFlight, false, 0);
  }

  /** A model on the worker's own machine; {@code retryAtMs} as in the record. */
  public ModelEntry(String name, long sizeBytes, String state, String reason, List<String> aliases, int inFlight,
                    long retryAtMs) {
    this(name, sizeBytes, state, reason, aliases, inFlight, false, retryAtMs);
  }

  /** A model that is not backing off; {@code overRpc} as in the record. */
  public ModelEntry(String name, long sizeBytes, String state, String reason, List<String> aliases, int inFlight,
                    boolean overRpc) {
    this(name, sizeBytes, state, reason, aliases, inFlight, overRpc, 0);
  }

  /** True when the model's last load failed and the worker does not try it again before {@link #retryAtMs}. */
  public boolean backingOff(long nowMs) {
    return FAILED.equals(state) && retryAtMs > nowMs;
  }

  /** Loaded, loading or unloading: it holds memory (its own machine's, or the rpc pool's when {@link #overRpc}). */
  public boolean occupies() {
    return LOADED.equals(state) || LOADING.equals(state) || UNLOADING.equals(state);
  }

  public boolean loaded() {
    return LOADED.equals(state);
  }

  /** The state as one word, or {@code failed: reason}. */
  public String describe() {
    return FAILED.equals(state) && reason != null ? FAILED + ": " + reason : state;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("name", name).put("sizeBytes", sizeBytes).put("state", state)
        .put("inFlight", inFlight);
    if (reason != null) {
      json.put("reason", reason);
    }
    if (!aliases.isEmpty()) {
      json.put("aliases", new JsonArray(aliases));
    }
    if (overRpc) {
      json.put("rpc", true);
    }
    if (retryAtMs > 0) {
      json.put("retryAtMs", retryAtMs);
    }
    return json;
  }

  public static ModelEntry fromJson(JsonObject json) {
    return new ModelEntry(json.getString("name"), json.getLong("sizeBytes", 0L), json.getString("state", UNLOADED),
        json.getString("reason"), WorkerDescriptor.strings(json.getJsonArray("aliases")),
        json.getInteger("inFlight", 0), json.getBoolean("rpc", false), json.getLong("retryAtMs", 0L));
  }
}
