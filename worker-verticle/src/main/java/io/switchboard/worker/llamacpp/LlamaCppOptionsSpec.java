package io.switchboard.worker.llamacpp;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.OptionChecks;
import io.switchboard.runtime.config.Range;
import io.switchboard.runtime.config.ReadByHand;
import io.switchboard.worker.openai.OpenAiOptions;
import io.switchboard.worker.rpc.RpcPoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Settings of the llamacpp engine: either attach to a running llama-server ({@code url}), or supervise one
 * ({@code serverBin} + {@code modelPath}) over the rpc pool ({@code rpcPool}: the cluster's rpc-agents, a static
 * list, an optional scan), restarting it when the pool changes, or serve a model directory ({@code serverBin} +
 * {@code modelsDir}): one supervised llama-server per loaded model, loaded on demand, at most {@code modelsMax} at
 * once, unloaded after {@code idleUnloadMs} without requests; {@code models} holds per-model settings.
 */
@GenerateOptions
public abstract class LlamaCppOptionsSpec {

  public static final int DEFAULT_CONTEXT_SIZE = 4096;
  /** Fields llama-server's policy refuses that this worker lets through anyway: none (BackendFieldPolicy). */
  public static final List<String> DEFAULT_PASS_FIELDS = List.of();
  /** How many models of a model directory are loaded at once; a load past it unloads the least recently used. */
  public static final int DEFAULT_MODELS_MAX = 2;
  /** How long a loaded model may go without requests before it is unloaded (0: never). */
  public static final long DEFAULT_IDLE_UNLOAD_MS = 600_000;
  /** How many models of a directory the worker serves and announces; past it the rest are skipped and logged. */
  public static final int DEFAULT_MAX_LISTED_MODELS = 256;
  /**
   * After a model's load failed (corrupt file, llama-server exits, no room), how long the worker does not load it again
   * (requests meanwhile get the recorded failure at once); it doubles with each failed load in a row, up to 10 minutes
   * (or this, if longer). A changed file (size or time) or an operator's load command ends it. 0: no back-off.
   */
  public static final long DEFAULT_LOAD_RETRY_BACKOFF_MS = 30_000;
  /** One day: a back-off past it is a typo (seconds given for ms, say). */
  static final long MAX_LOAD_RETRY_BACKOFF_MS = 86_400_000;
  static final int MAX_LISTED_MODELS_LIMIT = 10_000;
  /** 1 PiB: a budget past it is a typo (bytes given for MiB). */
  static final long MAX_MEMORY_BUDGET_MB = 1L << 30;

  String url;
  /** How long the engine waits at start for llama-server's /health to answer 200 (it may be loading a model). */
  @Range(min = 1000)
  long startupTimeoutMs = 120_000;
  String serverBin;
  String modelPath;
  int contextSize = DEFAULT_CONTEXT_SIZE;
  int threads;
  /** How long a changed pool must stay unchanged before llama-server restarts on it. */
  long restartDebounceMs = 2000;
  /** How long in-flight generations may finish before a restart for a changed pool cuts them. */
  long restartDrainMs = 30_000;
  RpcPoolOptions rpcPool = new RpcPoolOptions();
  List<String> passFields = DEFAULT_PASS_FIELDS;
  String modelsDir;
  int modelsMax = DEFAULT_MODELS_MAX;
  long idleUnloadMs = DEFAULT_IDLE_UNLOAD_MS;
  int maxListedModels = DEFAULT_MAX_LISTED_MODELS;
  /**
   * The memory, in MiB, a model directory's loaded models may hold by their file sizes (0: no budget, only
   * modelsMax bounds them): a load past it unloads least recently used idle models first; a larger model is refused.
   */
  long memoryBudgetMb = 0;
  long loadRetryBackoffMs = DEFAULT_LOAD_RETRY_BACKOFF_MS;
  /**
   * Whether a model directory's models load over the rpc pool ({@code rpcPool}): off by default, so a model directory
   * worker runs its models on its own machine unless told otherwise. A {@code --model} worker always uses its pool.
   */
  boolean modelsOverRpcPool = false;
  @ReadByHand
  List<ModelSettings> models = List.of();
  /** Why the per-model settings could not be read, relative to the llamacpp section; null when they could. */
  private transient String modelsError;

  /**
   * {@code models} is read by hand (not generated): a wrong entry must not stop the node's config from loading,
   * so it is kept as {@code modelsError} and reported by {@link #validate}, which knows the worker's path.
   */
  protected void readJson(JsonObject json) {
    Object perModel = json.getValue("models");
    if (perModel == null) {
      return;
    }
    if (!(perModel instanceof JsonArray list)) {
      modelsError = "llamacpp.models must be a list of model settings, got '" + perModel + "'";
      return;
    }
    List<ModelSettings> settings = new ArrayList<>();
    for (int i = 0; i < list.size() && modelsError == null; i++) {
      if (!(list.getValue(i) instanceof JsonObject entry)) {
        modelsError = "llamacpp.models[" + i + "] must be a mapping of one model's settings (name, contextSize, gpuLayers, "
            + "mmproj, chatTemplate, chatTemplateFile, aliases), got '" + list.getValue(i) + "'";
        break;
      }
      try {
        settings.add(ModelSettings.read(entry, "llamacpp.models[" + i + "]"));
      } catch (IllegalArgumentException invalid) {
        modelsError = invalid.getMessage();
      }
    }
    models = List.copyOf(settings);
  }

  protected void writeJson(JsonObject json) {
    json.put("models", new JsonArray(new ArrayList<>(models.stream().map(ModelSettings::toJson).toList())));
  }

  /** True when the engine serves a model directory (one llama-server per loaded model). */
  public boolean servesDirectory() {
    return modelsDir != null && !modelsDir.isBlank();
  }

  /** True when the engine runs its own llama-server rather than attaching to one. */
  public boolean supervises() {
    return url == null || url.isBlank();
  }

  /** Checks the settings the engine needs; only called for workers whose engine is llamacpp. */
  public void validate(String path) {
    OpenAiOptions.requireFieldNames(path + ".passFields", passFields);
    if (modelsError != null) {
      throw new IllegalArgumentException(modelsError.replace("llamacpp.models[", path + ".models["));
    }
    if (servesDirectory()) {
      validateDirectory(path);
      return;
    }
    if (modelsOverRpcPool) {
      throw new IllegalArgumentException(path + ".modelsOverRpcPool applies to a model directory (" + path
          + ".modelsDir, --models-dir); a worker with modelPath (--model) always runs its model over the rpc pool "
          + "and one with url runs none: remove modelsOverRpcPool");
    }
    if (!models.isEmpty()) {
      throw new IllegalArgumentException(path + ".models (per-model settings) needs " + path + ".modelsDir "
          + "(--models-dir DIR)");
    }
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

  private void validateDirectory(String path) {
    if (url != null && !url.isBlank() || modelPath != null && !modelPath.isBlank()) {
      throw new IllegalArgumentException(path + " sets modelsDir (--models-dir) and also " + (url != null
          && !url.isBlank() ? "url" : "modelPath (--model)") + "; a worker serves either a model directory, one "
          + "model, or a running llama-server");
    }
    if (serverBin == null || serverBin.isBlank()) {
      throw new IllegalArgumentException(path + ".modelsDir needs serverBin: the llama-server to run for each "
          + "loaded model (--llama-server-bin PATH)");
    }
    if (!Files.isDirectory(Path.of(modelsDir))) {
      throw new IllegalArgumentException(path + ".modelsDir is not a directory: '" + modelsDir + "'");
    }
    OptionChecks.atLeast(path + ".modelsMax", modelsMax, 1, " (models loaded at once)");
    OptionChecks.atLeast(path + ".idleUnloadMs", idleUnloadMs, 0, " (0: never unload an idle model)");
    if (memoryBudgetMb < 0 || memoryBudgetMb > MAX_MEMORY_BUDGET_MB) {
      throw new IllegalArgumentException(path + ".memoryBudgetMb must be between 0 (no budget) and "
          + MAX_MEMORY_BUDGET_MB + " (MiB the loaded models may hold by their file sizes), got " + memoryBudgetMb);
    }
    if (loadRetryBackoffMs < 0 || loadRetryBackoffMs > MAX_LOAD_RETRY_BACKOFF_MS) {
      throw new IllegalArgumentException(path + ".loadRetryBackoffMs must be between 0 (no back-off: a failed model "
          + "is loaded again on the next request) and " + MAX_LOAD_RETRY_BACKOFF_MS + " (ms a model whose load failed "
          + "is not loaded again, doubling per failed load up to 10 minutes), got " + loadRetryBackoffMs);
    }
    if (maxListedModels < 1 || maxListedModels > MAX_LISTED_MODELS_LIMIT) {
      throw new IllegalArgumentException(path + ".maxListedModels must be between 1 and " + MAX_LISTED_MODELS_LIMIT
          + ", got " + maxListedModels);
    }
    if (contextSize < 16 || threads < 0) {
      throw new IllegalArgumentException(path + ".contextSize must be >= 16 and threads >= 0");
    }
    if (modelsOverRpcPool) {
      if (restartDebounceMs < 0) {
        throw new IllegalArgumentException(path + ".restartDebounceMs must be >= 0 (how long an rpc-server must stay "
            + "gone before the models loaded over it are stopped), got " + restartDebounceMs);
      }
      rpcPool.validate(path + ".rpcPool");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < models.size(); i++) {
      ModelSettings model = models.get(i);
      String where = path + ".models[" + i + "]";
      model.validate(where);
      if (!names.add(model.getName())) {
        throw new IllegalArgumentException(where + ".name '" + model.getName() + "' is set twice; give each model "
            + "one entry");
      }
    }
    for (int i = 0; i < models.size(); i++) {
      for (String alias : models.get(i).getAliases()) {
        if (!names.add(alias)) {
          throw new IllegalArgumentException(path + ".models[" + i + "].aliases: '" + alias + "' already names "
              + "another model or alias; each name must lead to one model");
        }
      }
    }
  }
}
