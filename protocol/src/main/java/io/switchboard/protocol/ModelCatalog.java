package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The models a worker can serve from its model directory, with each one's size and state: in the worker's record
 * ({@link WorkerDescriptor#catalog()}, the states at publish time) and in every load report
 * ({@link LoadReport#catalog()}, the states now). On the wire it is the object under the key {@code library};
 * workers without a model directory send none, and readers of an older version skip it.
 *
 * The gateway places a model that is loaded nowhere on the worker with the most room for it: {@link #freeBytes()}
 * against the model's file size. That room is where the worker's next model runs: over its rpc pool when it has one
 * with members ({@link #rpcPool()}), else on its own machine.
 *
 * @param models         at most the worker's {@code llamacpp.maxListedModels} entries, sorted by name
 * @param total          how many models the directory holds; more than {@code models.size()} when the list was capped
 * @param budgetBytes    the memory the worker may give its loaded models ({@code llamacpp.memoryBudgetMb}); 0 when
 *                       it has no budget (then only {@code modelsMax} bounds what it loads)
 * @param availableBytes the machine's available memory when the catalog was made ({@code MemAvailable} of
 *                       {@code /proc/meminfo}); -1 when unknown
 * @param rpcPool        the rpc pool the worker runs its models over ({@code llamacpp.modelsOverRpcPool}): members
 *                       and their device memory; {@link RpcPoolRoom#NONE} for a worker without one
 */
public record ModelCatalog(List<ModelEntry> models, int total, long budgetBytes, long availableBytes,
                           RpcPoolRoom rpcPool) {

  public static final String KEY = "library";
  public static final ModelCatalog EMPTY = new ModelCatalog(List.of(), 0);

  public ModelCatalog {
    models = models == null ? List.of() : List.copyOf(models);
    total = Math.max(total, models.size());
    budgetBytes = Math.max(0, budgetBytes);
    availableBytes = availableBytes < 0 ? -1 : availableBytes;
    rpcPool = rpcPool == null ? RpcPoolRoom.NONE : rpcPool;
  }

  /** A catalog of a worker without an rpc pool. */
  public ModelCatalog(List<ModelEntry> models, int total, long budgetBytes, long availableBytes) {
    this(models, total, budgetBytes, availableBytes, RpcPoolRoom.NONE);
  }

  /** A catalog that says nothing of memory. */
  public ModelCatalog(List<ModelEntry> models, int total) {
    this(models, total, 0, -1);
  }

  /**
   * The file sizes of the models loaded, loading or unloading on the worker's own machine now: what they hold of
   * its memory (models over the rpc pool hold the pool's).
   */
  public long occupiedBytes() {
    long occupied = 0;
    for (ModelEntry entry : models) {
      if (entry.occupies() && !entry.overRpc()) {
        occupied += entry.sizeBytes();
      }
    }
    return occupied;
  }

  /** The file sizes of the loaded local models with no request in flight: what the worker could unload for room. */
  public long idleLoadedBytes() {
    long idle = 0;
    for (ModelEntry entry : models) {
      if (entry.loaded() && entry.inFlight() == 0 && !entry.overRpc()) {
        idle += entry.sizeBytes();
      }
    }
    return idle;
  }

  /** The model that holds the rpc pool now (an rpc-server serves one llama-server at a time); null when none does. */
  public ModelEntry rpcHolder() {
    for (ModelEntry entry : models) {
      if (entry.overRpc() && entry.occupies()) {
        return entry;
      }
    }
    return null;
  }

  /**
   * Room for one more model without unloading any. Over an rpc pool with members: the members' free device memory,
   * summed, when no model holds the pool, else 0 (an rpc-server serves one llama-server at a time). On the worker's
   * own machine: the budget less what the loaded models hold (and no more than the machine has available), else
   * what the machine has available; -1 when the worker says neither.
   */
  public long freeBytes() {
    if (rpcPool.active()) {
      return rpcHolder() == null ? rpcPool.freeBytes() : 0;
    }
    return localFreeBytes();
  }

  /**
   * Room for one more model once the worker unloads what it may (models with no request in flight): over the rpc
   * pool, the members' free device memory when the model holding it (if any) is idle or unloading, else 0; on the
   * worker's own machine, {@link #freeBytes()} plus {@link #idleLoadedBytes()}; -1 when unknown.
   */
  public long freeBytesAfterIdleUnload() {
    if (rpcPool.active()) {
      ModelEntry holder = rpcHolder();
      boolean releasable = holder == null || ModelEntry.UNLOADING.equals(holder.state())
          || holder.loaded() && holder.inFlight() == 0;
      return releasable ? rpcPool.freeBytes() : 0;
    }
    long free = localFreeBytes();
    return free < 0 ? -1 : free + idleLoadedBytes();
  }

  /** Where the worker's next model runs: {@code "rpc pool"} or {@code "local"}. */
  public String roomKind() {
    return rpcPool.active() ? "rpc pool" : "local";
  }

  private long localFreeBytes() {
    if (budgetBytes > 0) {
      long free = Math.max(0, budgetBytes - occupiedBytes());
      return availableBytes >= 0 ? Math.min(free, availableBytes) : free;
    }
    return availableBytes;
  }

  /** The entry of a model by its name or one of its aliases on this worker; null when none. */
  public ModelEntry lookup(String nameOrAlias) {
    ModelEntry byName = find(nameOrAlias);
    if (byName != null) {
      return byName;
    }
    for (ModelEntry entry : models) {
      if (entry.aliases().contains(nameOrAlias)) {
        return entry;
      }
    }
    return null;
  }

  public boolean isEmpty() {
    return models.isEmpty() && total == 0;
  }

  /** True when the worker holds more models than it lists. */
  public boolean truncated() {
    return total > models.size();
  }

  public ModelEntry find(String name) {
    for (ModelEntry entry : models) {
      if (entry.name().equals(name)) {
        return entry;
      }
    }
    return null;
  }

  public JsonObject toJson() {
    JsonArray list = new JsonArray(new ArrayList<>(models.size()));
    models.forEach(entry -> list.add(entry.toJson()));
    JsonObject json = new JsonObject().put("total", total).put("models", list);
    if (budgetBytes > 0) {
      json.put("budgetBytes", budgetBytes);
    }
    if (availableBytes >= 0) {
      json.put("availableBytes", availableBytes);
    }
    if (rpcPool != RpcPoolRoom.NONE) {
      json.put(RpcPoolRoom.KEY, rpcPool.toJson());
    }
    return json;
  }

  /** Null or not an object: {@link #EMPTY}. Entries that are not objects are skipped. */
  public static ModelCatalog fromJson(Object json) {
    if (!(json instanceof JsonObject object)) {
      return EMPTY;
    }
    JsonArray list = object.getJsonArray("models", new JsonArray());
    List<ModelEntry> models = new ArrayList<>(list.size());
    for (Object item : list) {
      if (item instanceof JsonObject entry && entry.getString("name") != null) {
        models.add(ModelEntry.fromJson(entry));
      }
    }
    return new ModelCatalog(models, object.getInteger("total", models.size()), object.getLong("budgetBytes", 0L),
        object.getLong("availableBytes", -1L), RpcPoolRoom.fromJson(object.getValue(RpcPoolRoom.KEY)));
  }
}
