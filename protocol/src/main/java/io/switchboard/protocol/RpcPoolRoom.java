package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

/**
 * The rpc pool a model directory worker runs its models over ({@code llamacpp.modelsOverRpcPool}), as its catalog
 * reports it: how many rpc-servers are members now and their devices' memory, summed, as the HELLO /
 * get-device-memory probe read it when each joined (an rpc-server is not probed while a llama-server uses it, so
 * the reading is from before the worker's models were loaded on it). On the wire it is the catalog's
 * {@code rpcPool} object; a worker without a pool sends none.
 *
 * @param members    rpc-servers in the pool now
 * @param freeBytes  their devices' free memory, summed
 * @param totalBytes their devices' total memory, summed
 */
public record RpcPoolRoom(int members, long freeBytes, long totalBytes) {

  public static final String KEY = "rpcPool";
  /** No pool, or one without members: the worker's models run on its own machine. */
  public static final RpcPoolRoom NONE = new RpcPoolRoom(0, 0, 0);

  public RpcPoolRoom {
    members = Math.max(0, members);
    freeBytes = Math.max(0, freeBytes);
    totalBytes = Math.max(0, totalBytes);
  }

  /** True when the worker's next model loads over the pool: it has members. */
  public boolean active() {
    return members > 0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("members", members).put("freeBytes", freeBytes).put("totalBytes", totalBytes);
  }

  /** Null or not an object: {@link #NONE}. */
  public static RpcPoolRoom fromJson(Object json) {
    if (!(json instanceof JsonObject object)) {
      return NONE;
    }
    return new RpcPoolRoom(object.getInteger("members", 0), object.getLong("freeBytes", 0L),
        object.getLong("totalBytes", 0L));
  }
}
