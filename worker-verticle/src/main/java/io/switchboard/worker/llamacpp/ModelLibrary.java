package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.RpcPoolRoom;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The models of one model directory and what each is doing: the state machine of a model (unloaded → loading →
 * loaded → unloading → unloaded; a failed load or a crash → failed, from which a load may start again, after a failed
 * load only once its back-off has passed) and the
 * choices the worker makes with it: is there room for one more model ({@code modelsMax}, and the memory budget:
 * the file sizes of the models that hold memory against {@code memoryBudgetMb}), which loaded model to
 * unload for room (the least recently used one with no request in flight), which have been idle too long. Holds no
 * processes and does no I/O, so every rule is tested alone ({@code ModelLibraryTest}); the engine drives it. Used
 * only on the worker's event loop.
 */
final class ModelLibrary {

  enum State {
    UNLOADED(ModelEntry.UNLOADED), LOADING(ModelEntry.LOADING), LOADED(ModelEntry.LOADED),
    UNLOADING(ModelEntry.UNLOADING), FAILED(ModelEntry.FAILED);

    final String wire;

    State(String wire) {
      this.wire = wire;
    }
  }

  /** What a directory update changed, for the log: {@code changed} are files rewritten (size or time). */
  record Changes(List<String> added, List<String> removed, List<String> changed) {
  }

  /**
   * A GGUF file of the directory: the model's name is the file name without {@code .gguf}; {@code modifiedMs} its
   * last-modified time (with the size, what tells a replaced file from the one that failed to load).
   */
  record ModelFile(String name, Path path, long sizeBytes, long modifiedMs) {
    ModelFile(String name, Path path, long sizeBytes) {
      this(name, path, sizeBytes, 0);
    }
  }

  /** The longest back-off after failed loads, unless the base back-off alone is longer. */
  static final long MAX_RETRY_BACKOFF_MS = 10 * 60_000;

  /** One model and its run-time state. The engine hangs its running server on {@link #server}. */
  static final class Model {
    final String name;
    final Path path;
    /** The file's size; it changes only when the file was replaced while the model held no memory. */
    long sizeBytes;
    private long modifiedMs;
    final ModelSettings settings;
    private State state = State.UNLOADED;
    private String reason;
    private int inFlight;
    private long lastUsedMs;
    /** A loading model that was given its place under modelsMax (a load waiting for room has none yet). */
    private boolean holdsRoom;
    /** Loads that failed in a row (0 after a load that succeeded, a changed file or an operator's load). */
    private int failedLoads;
    /** After a failed load: no load starts before this time (ms since the epoch) unless the back-off is ended. */
    private long retryAtMs;
    /**
     * Where the last failed load ran: the rpc-servers it ran over, empty for this machine. Its back-off holds only
     * while the next load would run there too ({@link #placeChanged}).
     */
    private List<String> failedOver = List.of();
    /** The engine's handle on the model's llama-server while it is loading, loaded or unloading. */
    Object server;
    /**
     * Whether this load runs over the worker's rpc pool (set by {@link #loading(Model, boolean)}): such a model holds
     * the pool, not the machine's memory budget, and only one model holds the pool at a time.
     */
    private boolean overRpc;

    Model(ModelFile file, ModelSettings settings) {
      this.name = file.name();
      this.path = file.path();
      this.sizeBytes = file.sizeBytes();
      this.modifiedMs = file.modifiedMs();
      this.settings = settings == null ? new ModelSettings().setName(file.name()) : settings;
    }

    State state() {
      return state;
    }

    String reason() {
      return reason;
    }

    int inFlight() {
      return inFlight;
    }

    long lastUsedMs() {
      return lastUsedMs;
    }

    /** When a load may start again after a failed one (ms since the epoch); 0 when it may start now. */
    long retryAtMs() {
      return state == State.FAILED ? retryAtMs : 0;
    }

    int failedLoads() {
      return failedLoads;
    }

    /**
     * Loaded, unloading, or loading with its place claimed: it holds (or is about to hold, or still holds) memory.
     * A load still waiting for room holds none: counting it would let two waiting loads keep each other out.
     */
    boolean occupiesRoom() {
      return state == State.LOADED || state == State.UNLOADING || state == State.LOADING && holdsRoom;
    }

    boolean overRpc() {
      return overRpc;
    }

    ModelEntry entry() {
      return new ModelEntry(name, sizeBytes, state.wire, state == State.FAILED ? reason : null,
          settings.getAliases(), inFlight, overRpc && occupiesRoom(), retryAtMs());
    }
  }

  private final int modelsMax;
  /** The memory the loaded models may hold, by their file sizes; 0 for no budget. */
  private final long budgetBytes;
  /** The back-off after a model's first failed load; it doubles with each failed load in a row; 0 for none. */
  private final long retryBackoffMs;
  private final Map<String, ModelSettings> settings;
  private final Map<String, Model> models = new TreeMap<>();
  private final Map<String, Model> byAlias = new LinkedHashMap<>();
  private int total;

  /** @param settings per-model settings by model name (entries for models not in the directory are ignored) */
  ModelLibrary(int modelsMax, Collection<ModelSettings> settings) {
    this(modelsMax, 0, settings);
  }

  /** @param budgetBytes the memory the loaded models may hold by their file sizes; 0 for no budget */
  ModelLibrary(int modelsMax, long budgetBytes, Collection<ModelSettings> settings) {
    this(modelsMax, budgetBytes, 0, settings);
  }

  /**
   * @param retryBackoffMs how long a model whose load failed is not loaded again (doubling with each failed load in
   *                       a row, up to {@link #MAX_RETRY_BACKOFF_MS} or this if longer); 0 for no back-off
   */
  ModelLibrary(int modelsMax, long budgetBytes, long retryBackoffMs, Collection<ModelSettings> settings) {
    this.modelsMax = modelsMax;
    this.budgetBytes = Math.max(0, budgetBytes);
    this.retryBackoffMs = Math.max(0, retryBackoffMs);
    this.settings = new LinkedHashMap<>();
    settings.forEach(entry -> this.settings.put(entry.getName(), entry));
  }

  /**
   * Takes the directory's files (already capped) and how many it held in all. New files become unloaded models; a
   * model whose file is gone leaves unless it is in use (it leaves when a later scan finds it gone and unloaded). A
   * model whose file changed (size or last-modified time) while it held no memory takes the new size, and a failed
   * one is unloaded with its back-off ended: the new file is tried on the next request.
   *
   * @return the names added and removed, for the log
   */
  Changes update(List<ModelFile> files, int totalInDirectory) {
    total = totalInDirectory;
    List<String> added = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    Map<String, ModelFile> byName = new LinkedHashMap<>();
    files.forEach(file -> byName.put(file.name(), file));
    for (Model model : new ArrayList<>(models.values())) {
      ModelFile file = byName.get(model.name);
      boolean gone = file == null || !file.path().equals(model.path);
      if (gone && (model.state == State.UNLOADED || model.state == State.FAILED)) {
        models.remove(model.name);
        removed.add(model.name);
      } else if (!gone && (file.sizeBytes() != model.sizeBytes || file.modifiedMs() != model.modifiedMs)
          && (model.state == State.UNLOADED || model.state == State.FAILED)) {
        model.sizeBytes = file.sizeBytes();
        model.modifiedMs = file.modifiedMs();
        if (model.state == State.FAILED) {
          model.state = State.UNLOADED;
          model.reason = null;
        }
        model.failedLoads = 0;
        model.retryAtMs = 0;
        changed.add(model.name);
      }
    }
    for (ModelFile file : files) {
      if (!models.containsKey(file.name())) {
        models.put(file.name(), new Model(file, settings.get(file.name())));
        added.add(file.name());
      }
    }
    byAlias.clear();
    for (Model model : models.values()) {
      for (String alias : model.settings.getAliases()) {
        if (!models.containsKey(alias)) {
          byAlias.putIfAbsent(alias, model);
        }
      }
    }
    return new Changes(added, removed, changed);
  }

  /** The model a request names, by its name or an alias; null when none. */
  Model find(String nameOrAlias) {
    Model model = models.get(nameOrAlias);
    return model != null ? model : byAlias.get(nameOrAlias);
  }

  Collection<Model> models() {
    return models.values();
  }

  /** Every name and alias requests may use, names first. */
  List<String> servedNames() {
    List<String> names = new ArrayList<>(models.keySet());
    names.addAll(byAlias.keySet());
    return names;
  }

  int modelsMax() {
    return modelsMax;
  }

  /** Models loaded, unloading, or loading with their place claimed. */
  int occupying() {
    return (int) models.values().stream().filter(Model::occupiesRoom).count();
  }

  /** The file sizes of the models that occupy room on this machine (see {@link #occupying}; not those over the pool). */
  long occupiedBytes() {
    return models.values().stream().filter(m -> m.occupiesRoom() && !m.overRpc).mapToLong(m -> m.sizeBytes).sum();
  }

  /**
   * The model that holds the rpc pool (loading with its place claimed, loaded or unloading over it); null when none.
   * An rpc-server serves one client at a time, so one model at a time runs over the pool.
   */
  Model rpcHolder() {
    for (Model model : models.values()) {
      if (model.overRpc && model.occupiesRoom()) {
        return model;
      }
    }
    return null;
  }

  long budgetBytes() {
    return budgetBytes;
  }

  /**
   * A loading model takes a place if one is free: under {@code modelsMax} and, with a memory budget, its file size
   * within what the models that occupy room leave of it. True when it has one (now or before).
   */
  boolean claimRoom(Model model) {
    require(model, "claim room for", State.LOADING);
    if (!model.holdsRoom && occupying() < modelsMax && (model.overRpc ? rpcHolder() == null
        : budgetBytes == 0 || occupiedBytes() + model.sizeBytes <= budgetBytes)) {
      model.holdsRoom = true;
    }
    return model.holdsRoom;
  }

  /** True when the model alone is larger than the memory budget: it never fits, whatever is unloaded. */
  boolean largerThanBudget(Model model) {
    return budgetBytes > 0 && model.sizeBytes > budgetBytes && !model.overRpc;
  }

  /**
   * The model to unload to make room for {@code loading}: over the rpc pool, the model holding the pool when it has
   * no request in flight, else (a busy holder) none, or without a holder the least recently used idle model
   * (modelsMax); on this machine, {@link #victim()}.
   */
  Model victim(Model loading) {
    if (loading.overRpc) {
      Model holder = rpcHolder();
      if (holder != null && holder != loading) {
        return holder.state == State.LOADED && holder.inFlight == 0 ? holder : null;
      }
    }
    return victim();
  }

  /**
   * The model to unload to make room: the least recently used loaded model with no request in flight; null when
   * every loaded model is busy (or none is loaded).
   */
  Model victim() {
    Model victim = null;
    for (Model model : models.values()) {
      if (model.state == State.LOADED && model.inFlight == 0
          && (victim == null || model.lastUsedMs < victim.lastUsedMs)) {
        victim = model;
      }
    }
    return victim;
  }

  /** Loaded models with no request in flight and none for at least {@code idleMs}; none when idleMs is 0. */
  List<Model> idle(long nowMs, long idleMs) {
    List<Model> idle = new ArrayList<>();
    if (idleMs <= 0) {
      return idle;
    }
    for (Model model : models.values()) {
      if (model.state == State.LOADED && model.inFlight == 0 && nowMs - model.lastUsedMs >= idleMs) {
        idle.add(model);
      }
    }
    return idle;
  }

  /** A request starts using the model (it may still have to load): it cannot be unloaded until released. */
  void acquire(Model model, long nowMs) {
    model.inFlight++;
    model.lastUsedMs = nowMs;
  }

  /** @return true when the model has no request in flight any more */
  boolean release(Model model, long nowMs) {
    if (model.inFlight <= 0) {
      throw new IllegalStateException("model " + model.name + " released more often than acquired");
    }
    model.inFlight--;
    model.lastUsedMs = nowMs;
    return model.inFlight == 0;
  }

  void loading(Model model) {
    loading(model, false);
  }

  /** @param overRpc whether the load runs over the worker's rpc pool */
  void loading(Model model, boolean overRpc) {
    require(model, "start loading", State.UNLOADED, State.FAILED);
    model.state = State.LOADING;
    model.reason = null;
    model.retryAtMs = 0;
    model.holdsRoom = false;
    model.overRpc = overRpc;
  }

  void loaded(Model model, long nowMs) {
    require(model, "finish loading", State.LOADING);
    model.state = State.LOADED;
    model.failedLoads = 0;
    model.retryAtMs = 0;
    model.lastUsedMs = Math.max(model.lastUsedMs, nowMs);
  }

  /**
   * A load failed: the model is failed and not loaded again before its back-off has passed (the base back-off,
   * doubled for each failed load in a row, at most {@link #MAX_RETRY_BACKOFF_MS} or the base if longer).
   */
  void loadFailed(Model model, String reason, long nowMs) {
    loadFailed(model, reason, nowMs, List.of());
  }

  /** {@link #loadFailed(Model, String, long)} of a load that ran over these rpc-servers (empty: this machine). */
  void loadFailed(Model model, String reason, long nowMs, List<String> ranOver) {
    require(model, "fail loading", State.LOADING);
    failed(model, reason);
    model.failedLoads++;
    model.retryAtMs = retryBackoffMs == 0 ? 0 : nowMs + backoffMs(model.failedLoads);
    model.failedOver = List.copyOf(ranOver);
  }

  /**
   * The worker's rpc pool now has these members (empty: its next load runs on this machine): a model whose failed
   * load ran elsewhere (over other rpc-servers, or locally) may be tried at once where the next load runs, as with a
   * changed file. Its count of failed loads stays, so a pool that keeps changing under a model that keeps failing
   * still backs off longer each time.
   *
   * @return the names of the models whose back-off ended, for the log
   */
  List<String> placeChanged(List<String> members) {
    List<String> ended = new ArrayList<>();
    for (Model model : models.values()) {
      if (model.state == State.FAILED && model.retryAtMs > 0 && !model.failedOver.equals(members)) {
        model.retryAtMs = 0;
        ended.add(model.name);
      }
    }
    return ended;
  }

  /** The back-off after {@code failedLoads} failed loads in a row. */
  long backoffMs(int failedLoads) {
    long cap = Math.max(MAX_RETRY_BACKOFF_MS, retryBackoffMs);
    long backoff = retryBackoffMs;
    for (int i = 1; i < failedLoads && backoff < cap; i++) {
      backoff *= 2;
    }
    return Math.min(backoff, cap);
  }

  /** True when the model's last load failed and its back-off has not passed: no load may start now. */
  boolean backingOff(Model model, long nowMs) {
    return model.state == State.FAILED && model.retryAtMs > nowMs;
  }

  /** An operator asked to load the model: its back-off ends (a failure after this starts from the base again). */
  void endBackoff(Model model) {
    model.failedLoads = 0;
    model.retryAtMs = 0;
  }

  /** A load failed, or a loaded model's server exited on its own (which starts no back-off: it had loaded). */
  void failed(Model model, String reason) {
    require(model, "fail", State.LOADING, State.LOADED);
    model.state = State.FAILED;
    model.reason = reason;
    model.server = null;
  }

  void unloading(Model model) {
    require(model, "unload", State.LOADED);
    if (model.inFlight > 0) {
      throw new IllegalStateException("model " + model.name + " has " + model.inFlight
          + " requests in flight and cannot be unloaded");
    }
    model.state = State.UNLOADING;
  }

  void unloaded(Model model) {
    require(model, "finish unloading", State.UNLOADING);
    model.state = State.UNLOADED;
    model.server = null;
  }

  /** What the worker announces: at most the listed models, sorted by name, and how many the directory holds. */
  ModelCatalog catalog() {
    return catalog(-1);
  }

  /** {@link #catalog()}, with the budget and the machine's available memory ({@code -1} when unknown). */
  ModelCatalog catalog(long availableBytes) {
    return catalog(availableBytes, RpcPoolRoom.NONE);
  }

  /** {@link #catalog(long)}, with the rpc pool the worker runs its models over. */
  ModelCatalog catalog(long availableBytes, RpcPoolRoom rpcPool) {
    return new ModelCatalog(models.values().stream().map(Model::entry).toList(), Math.max(total, models.size()),
        budgetBytes, availableBytes, rpcPool);
  }

  private static void require(Model model, String action, State... allowed) {
    for (State state : allowed) {
      if (model.state == state) {
        return;
      }
    }
    throw new IllegalStateException("cannot " + action + " model " + model.name + " while it is "
        + model.state.wire);
  }
}
