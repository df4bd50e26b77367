package io.switchboard.worker.rpc;

import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.OptionsJson;
import io.vertx.codegen.annotations.DataObject;
import io.vertx.codegen.json.annotations.JsonGen;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** Settings of the rpc-agent role: which ggml-rpc-server to run, where, and how to restart it. */
@DataObject
@JsonGen(publicConverter = false)
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
    RpcAgentOptionsConverter.fromJson(json, this);
  }

  public JsonObject toJson() {
    return OptionsJson.write(this, RpcAgentOptionsConverter::toJson);
  }

  /** Checks what can be checked without the role running; {@link #validateForRole} adds the rest. */
  public void validate(String path) {
    OptionChecks.port(path + ".port", port);
    OptionChecks.atLeast(path + ".threads", threads, 0, " (0 = the rpc-server's default)");
    if (restartBackoffMs < 100 || maxRestartBackoffMs < restartBackoffMs) {
      throw new IllegalArgumentException(path + ".restartBackoffMs must be >= 100 and " + path
          + ".maxRestartBackoffMs >= it, got " + restartBackoffMs + " and " + maxRestartBackoffMs);
    }
    OptionChecks.atLeast(path + ".startTimeoutMs", startTimeoutMs, 1000);
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

  public RpcAgentOptions setThreads(int threads) {
    this.threads = threads;
    return this;
  }

  public List<String> getDevices() {
    return devices;
  }

  public RpcAgentOptions setDevices(List<String> devices) {
    this.devices = new ArrayList<>(devices);
    return this;
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

  public RpcAgentOptions setMaxRestartBackoffMs(long maxRestartBackoffMs) {
    this.maxRestartBackoffMs = maxRestartBackoffMs;
    return this;
  }

  public long getStartTimeoutMs() {
    return startTimeoutMs;
  }

  public RpcAgentOptions setStartTimeoutMs(long startTimeoutMs) {
    this.startTimeoutMs = startTimeoutMs;
    return this;
  }
}
