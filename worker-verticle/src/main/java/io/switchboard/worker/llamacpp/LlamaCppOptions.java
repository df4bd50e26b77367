package io.switchboard.worker.llamacpp;

import io.switchboard.worker.rpc.RpcPoolOptions;
import io.switchboard.worker.openai.OpenAiOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings of the llamacpp engine: either attach to a running llama-server ({@code url}), or supervise one
 * ({@code serverBin} + {@code modelPath}) over the rpc pool ({@code rpcPool}: the cluster's rpc-agents, a static
 * list, an optional scan), restarting it when the pool changes.
 */
public class LlamaCppOptions {

  /** How long the engine waits at start for llama-server's /health to answer 200 (it may be loading a model). */
  public static final long DEFAULT_STARTUP_TIMEOUT_MS = 120_000;

  /** How long a changed pool must stay unchanged before llama-server restarts on it. */
  public static final long DEFAULT_RESTART_DEBOUNCE_MS = 2000;
  /** How long in-flight generations may finish before a restart for a changed pool cuts them. */
  public static final long DEFAULT_RESTART_DRAIN_MS = 30_000;
  public static final int DEFAULT_CONTEXT_SIZE = 4096;
  /** Fields llama-server's policy refuses that this worker lets through anyway: none (BackendFieldPolicy). */
  public static final List<String> DEFAULT_PASS_FIELDS = List.of();

  private String url;
  private long startupTimeoutMs = DEFAULT_STARTUP_TIMEOUT_MS;
  private String serverBin;
  private String modelPath;
  private int contextSize = DEFAULT_CONTEXT_SIZE;
  private int threads;
  private long restartDebounceMs = DEFAULT_RESTART_DEBOUNCE_MS;
  private long restartDrainMs = DEFAULT_RESTART_DRAIN_MS;
  private RpcPoolOptions rpcPool = new RpcPoolOptions();
  private List<String> passFields = DEFAULT_PASS_FIELDS;

  public LlamaCppOptions() {
  }

  public LlamaCppOptions(JsonObject json) {
    url = json.getString("url");
    startupTimeoutMs = json.getLong("startupTimeoutMs", DEFAULT_STARTUP_TIMEOUT_MS);
    serverBin = json.getString("serverBin");
    modelPath = json.getString("modelPath");
    contextSize = json.getInteger("contextSize", DEFAULT_CONTEXT_SIZE);
    threads = json.getInteger("threads", 0);
    restartDebounceMs = json.getLong("restartDebounceMs", DEFAULT_RESTART_DEBOUNCE_MS);
    restartDrainMs = json.getLong("restartDrainMs", DEFAULT_RESTART_DRAIN_MS);
    rpcPool = new RpcPoolOptions(json.getJsonObject("rpcPool", new JsonObject()));
    JsonArray pass = json.getJsonArray("passFields");
    passFields = pass == null ? DEFAULT_PASS_FIELDS : pass.stream().map(String::valueOf).toList();
  }

  public JsonObject toJson() {
    // Unset strings stay as null keys: the config loader knows every setting by the keys present here.
    return new JsonObject().put("url", url).put("startupTimeoutMs", startupTimeoutMs).put("serverBin", serverBin)
        .put("modelPath", modelPath).put("contextSize", contextSize).put("threads", threads)
        .put("restartDebounceMs", restartDebounceMs).put("restartDrainMs", restartDrainMs)
        .put("rpcPool", rpcPool.toJson())
        .put("passFields", new JsonArray(new ArrayList<>(passFields)));
  }

  /** Request fields this worker passes to llama-server although llama-server's policy refuses them. */
  public List<String> getPassFields() {
    return passFields;
  }

  public LlamaCppOptions setPassFields(List<String> passFields) {
    this.passFields = List.copyOf(passFields);
    return this;
  }

  /** True when the engine runs its own llama-server rather than attaching to one. */
  public boolean supervises() {
    return url == null || url.isBlank();
  }

  /** Checks the settings the engine needs; only called for workers whose engine is llamacpp. */
  public void validate(String path) {
    if (startupTimeoutMs < 1000) {
      throw new IllegalArgumentException(path + ".startupTimeoutMs must be >= 1000, got " + startupTimeoutMs);
    }
    OpenAiOptions.requireFieldNames(path + ".passFields", passFields);
    if (supervises()) {
      if (serverBin == null || serverBin.isBlank() || modelPath == null || modelPath.isBlank()) {
        throw new IllegalArgumentException(path + " needs either url (a running llama-server) or serverBin and "
            + "modelPath (one to run: --llama-server-bin PATH --model FILE.gguf)");
      }
      if (contextSize < 16 || threads < 0 || restartDebounceMs < 0 || restartDrainMs < 0) {
        throw new IllegalArgumentException(path + ".contextSize must be >= 16, threads >= 0, restartDebounceMs and "
            + "restartDrainMs >= 0");
      }
      rpcPool.validate(path + ".rpcPool");
      return;
    }
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException bad) {
      throw new IllegalArgumentException(path + ".url is not a URL: '" + url + "'");
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException(path + ".url must be http://HOST:PORT, got '" + url + "'");
    }
  }

  public String getUrl() {
    return url;
  }

  public LlamaCppOptions setUrl(String url) {
    this.url = url;
    return this;
  }

  public String getServerBin() {
    return serverBin;
  }

  public LlamaCppOptions setServerBin(String serverBin) {
    this.serverBin = serverBin;
    return this;
  }

  public String getModelPath() {
    return modelPath;
  }

  public LlamaCppOptions setModelPath(String modelPath) {
    this.modelPath = modelPath;
    return this;
  }

  public int getContextSize() {
    return contextSize;
  }

  public LlamaCppOptions setContextSize(int contextSize) {
    this.contextSize = contextSize;
    return this;
  }

  public int getThreads() {
    return threads;
  }

  public LlamaCppOptions setThreads(int threads) {
    this.threads = threads;
    return this;
  }

  public long getRestartDebounceMs() {
    return restartDebounceMs;
  }

  public LlamaCppOptions setRestartDebounceMs(long restartDebounceMs) {
    this.restartDebounceMs = restartDebounceMs;
    return this;
  }

  public long getRestartDrainMs() {
    return restartDrainMs;
  }

  public RpcPoolOptions getRpcPool() {
    return rpcPool;
  }

  public LlamaCppOptions setRpcPool(RpcPoolOptions rpcPool) {
    this.rpcPool = rpcPool;
    return this;
  }

  public long getStartupTimeoutMs() {
    return startupTimeoutMs;
  }

  public LlamaCppOptions setStartupTimeoutMs(long startupTimeoutMs) {
    this.startupTimeoutMs = startupTimeoutMs;
    return this;
  }
}
