package io.switchboard.worker.rpc;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * What probing one candidate rpc-server found: whether it may join the pool and, either way, what it said.
 *
 * @param endpoint     host:port probed
 * @param accepted     true when it answered a ggml RPC handshake with a compatible protocol version
 * @param version      "major.minor.patch" it reported; null when it did not answer as an rpc-server
 * @param devices      free and total memory per device, when the protocol lets us ask (empty otherwise)
 * @param reason       why it was rejected; null when accepted
 * @param elapsedMs    how long the probe took
 */
public record RpcProbeResult(String endpoint, boolean accepted, String version, List<DeviceMemory> devices,
                             String reason, long elapsedMs) {

  /** One device's memory as the rpc-server reports it, in bytes. */
  public record DeviceMemory(long freeBytes, long totalBytes) {
  }

  public RpcProbeResult {
    devices = devices == null ? List.of() : List.copyOf(devices);
  }

  static RpcProbeResult accepted(String endpoint, String version, List<DeviceMemory> devices, long elapsedMs) {
    return new RpcProbeResult(endpoint, true, version, devices, null, elapsedMs);
  }

  static RpcProbeResult rejected(String endpoint, String version, String reason, long elapsedMs) {
    return new RpcProbeResult(endpoint, false, version, List.of(), reason, elapsedMs);
  }

  public JsonObject toJson() {
    JsonArray memory = new JsonArray();
    devices.forEach(d -> memory.add(new JsonObject().put("freeBytes", d.freeBytes()).put("totalBytes", d.totalBytes())));
    JsonObject json = new JsonObject().put("endpoint", endpoint).put("accepted", accepted).put("version", version)
        .put("devices", memory).put("elapsedMs", elapsedMs);
    if (reason != null) {
      json.put("reason", reason);
    }
    return json;
  }
}
