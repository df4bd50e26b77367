package io.switchboard.worker.rpc;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** Settings of the rpc-agent role: which ggml-rpc-server to run, where, and how to restart it. */
public class RpcAgentOptions {

  public static final int DEFAULT_PORT = 50052;
  public static final long DEFAULT_RESTART_BACKOFF_MS = 1000;
  public static final long DEFAULT_MAX_RESTART_BACKOFF_MS = 30_000;
  /** How long a started rpc-server has to answer the handshake before it counts as failed. */
  public static final long DEFAULT_START_TIMEOUT_MS = 20_000;

  private String serverBin;
  private String host;
  private int port = DEFAULT_PORT;
  private int threads;
  private List<String> devices = new ArrayList<>();
  private long restartBackoffMs = DEFAULT_RESTART_BACKOFF_MS;
  private long maxRestartBackoffMs = DEFAULT_MAX_RESTART_BACKOFF_MS;
  private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;

  public RpcAgentOptions() {
  }

  public RpcAgentOptions(JsonObject json) {
    serverBin = json.getString("serverBin");
    host = json.getString("host");
    port = json.getInteger("port", DEFAULT_PORT);
    threads = json.getInteger("threads", 0);
    JsonArray list = json.getJsonArray("devices", new JsonArray());
    devices = new ArrayList<>(list.stream().map(String::valueOf).toList());
    restartBackoffMs = json.getLong("restartBackoffMs", DEFAULT_RESTART_BACKOFF_MS);
    maxRestartBackoffMs = json.getLong("maxRestartBackoffMs", DEFAULT_MAX_RESTART_BACKOFF_MS);
    startTimeoutMs = json.getLong("startTimeoutMs", DEFAULT_START_TIMEOUT_MS);
  }

  public JsonObject toJson() {
    // Unset strings stay as null keys: the config loader knows every setting by the keys present here.
    return new JsonObject()
        .put("serverBin", serverBin)
        .put("host", host)
        .put("port", port)
        .put("threads", threads)
        .put("devices", new JsonArray(new ArrayList<>(devices)))
        .put("restartBackoffMs", restartBackoffMs)
        .put("maxRestartBackoffMs", maxRestartBackoffMs)
        .put("startTimeoutMs", startTimeoutMs);
  }

  /** Checks what can be checked without the role running; {@link #validateForRole} adds the rest. */
  public void validate(String path) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(path + ".port must be between 1 and 65535, got " + port);
    }
    if (threads < 0) {
      throw new IllegalArgumentException(path + ".threads must be >= 0 (0 = the rpc-server's default), got "
          + threads);
    }
    if (restartBackoffMs < 100 || maxRestartBackoffMs < restartBackoffMs) {
      throw new IllegalArgumentException(path + ".restartBackoffMs must be >= 100 and " + path
          + ".maxRestartBackoffMs >= it, got " + restartBackoffMs + " and " + maxRestartBackoffMs);
    }
    if (startTimeoutMs < 1000) {
      throw new IllegalArgumentException(path + ".startTimeoutMs must be >= 1000, got " + startTimeoutMs);
    }
  }

  /** The role needs a binary: say where to get one. */
  public void validateForRole(String path) {
    if (serverBin == null || serverBin.isBlank()) {
      throw new IllegalArgumentException(path + ".serverBin must name the ggml-rpc-server binary when node.roles "
          + "includes rpc-agent (--rpc-server-bin PATH; tools/build-llama-cpp builds one)");
    }
  }

  public String getServerBin() {
    return serverBin;
  }

  public RpcAgentOptions setServerBin(String serverBin) {
    this.serverBin = serverBin;
    return this;
  }

  public String getHost() {
    return host;
  }

  public RpcAgentOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  public RpcAgentOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public int getThreads() {
    return threads;
  }

  public List<String> getDevices() {
    return devices;
  }

  public long getRestartBackoffMs() {
    return restartBackoffMs;
  }

  public RpcAgentOptions setRestartBackoffMs(long restartBackoffMs) {
    this.restartBackoffMs = restartBackoffMs;
    return this;
  }

  public long getMaxRestartBackoffMs() {
    return maxRestartBackoffMs;
  }

  public long getStartTimeoutMs() {
    return startTimeoutMs;
  }
}
