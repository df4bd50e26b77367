package io.switchboard.protocol;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The discovery record schema of a ggml rpc-server that an rpc-agent supervises: published through Vert.x
 * Service Discovery (type {@link #RECORD_TYPE}) while the server answers its handshake, withdrawn when it
 * stops or crashes; survivors remove it when the agent's node leaves (by {@code nodeId}). A record is only a
 * candidate: a llama.cpp worker probes it before using it.
 *
 * @param agentId         unique per agent
 * @param nodeId          cluster node id of the agent's node
 * @param host            address llama-server connects to
 * @param port            the rpc-server's port
 * @param protocolVersion ggml RPC protocol version it reported, e.g. "7.0.0"
 * @param devices         per device: {@code {"freeBytes","totalBytes"}}, as it reported them
 * @param pid             the rpc-server's process id on its machine (for operators)
 */
public record RpcBackendRecord(String agentId, String nodeId, String host, int port, String protocolVersion,
                               JsonArray devices, long pid) {

  public static final String RECORD_TYPE = "ggml-rpc";

  public RpcBackendRecord {
    devices = devices == null ? new JsonArray() : devices;
  }

  public String endpoint() {
    return host + ":" + port;
  }

  public String recordName() {
    return "ggml-rpc:" + endpoint();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("agentId", agentId)
        .put("nodeId", nodeId)
        .put("host", host)
        .put("port", port)
        .put("protocolVersion", protocolVersion)
        .put("devices", devices)
        .put("pid", pid);
  }

  public static RpcBackendRecord fromJson(JsonObject json) {
    return new RpcBackendRecord(
        json.getString("agentId"),
        json.getString("nodeId"),
        json.getString("host"),
        json.getInteger("port", 0),
        json.getString("protocolVersion"),
        json.getJsonArray("devices"),
        json.getLong("pid", -1L));
  }
}
