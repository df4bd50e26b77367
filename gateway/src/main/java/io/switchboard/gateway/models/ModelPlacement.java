package io.switchboard.gateway.models;

import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelCommand;
import io.switchboard.protocol.ModelEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Where the gateway loads a model of the workers' model directories that is loaded nowhere, and the loads under way.
 * A worker without a model directory has every model it serves ready (warm); a model directory worker has the models
 * its catalog says are loaded, and the one this gateway saw it finish loading a moment ago (its next load report
 * says so within a second). For a model warm on no worker, {@link #choose} picks the worker to load it (one already
 * loading it, else the one with the most room for its file) and {@link #load} sends it the load command, once: every
 * request for that model while the load is under way shares it. What is kept here is bounded by the models the
 * workers announce, never by the names clients send: a load starts only for a model a worker's catalog lists, and is
 * forgotten when it ends; the last failures are kept for {@code /admin/cluster}, at most {@link #FAILURES_KEPT}. Used
 * only on the gateway verticle's event loop.
 */
public final class ModelPlacement {

  private static final Logger log = LoggerFactory.getLogger(ModelPlacement.class);
  /** How long a load this gateway saw finish counts as loaded before the worker's reports say so. */
  static final long WARM_HINT_MS = 5000;
  static final int FAILURES_KEPT = 32;

  /** Sends a worker the command to load a model; completes with its entry once loaded, or fails with the cause. */
  public interface Loader {
    Future<ModelEntry> load(WorkerState worker, String model);
  }

  /** A load that failed: the worker's typed error (naming the model, the worker and the cause). */
  public static final class LoadFailedException extends RuntimeException {
    private final GenerateError error;

    public LoadFailedException(GenerateError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }

    public GenerateError error() {
      return error;
    }
  }

  /** One load under way: the model, the worker chosen for it and why, and when it started. */
  public static final class Load {
    private final String model;
    private final String workerId;
    private final String nodeId;
    private final String because;
    private final long startedMs;
    private final Future<ModelEntry> done;

    Load(String model, String workerId, String nodeId, String because, long startedMs, Future<ModelEntry> done) {
      this.model = model;
      this.workerId = workerId;
      this.nodeId = nodeId;
      this.because = because;
      this.startedMs = startedMs;
      this.done = done;
    }

    public String model() {
      return model;
    }

    public String workerId() {
      return workerId;
    }

    public String nodeId() {
      return nodeId;
    }

    public String because() {
      return because;
    }

    public Future<ModelEntry> done() {
      return done;
    }
  }

  /** The last failed load of a model, for /admin/cluster. */
  record Failure(String model, String workerId, String nodeId, String reason, long atMs) {
    JsonObject toJson() {
      return new JsonObject().put("model", model).put("workerId", workerId).put("node", nodeId)
          .put("reason", reason).put("atMs", atMs);
    }
  }

  private final Loader loader;
  private final LongSupplier clockMs;
  private final Map<String, Load> pending = new HashMap<>();
  /** model -> worker -> until when (ms) the worker counts as having it loaded. */
  private final Map<String, Map<String, Long>> warmHints = new HashMap<>();
  private final LinkedHashMap<String, Failure> failures = new LinkedHashMap<>(16, 0.75f, false);
  private long loadsStarted;

  public ModelPlacement(Loader loader, LongSupplier clockMs) {
    this.loader = loader;
    this.clockMs = clockMs;
  }

  /**
   * Load commands on the event bus ({@link Addresses#workerModels}), with a reply timeout of {@code timeoutMs}: the
   * worker answers when the model is loaded (its own load timeout, {@code llamacpp.startupTimeoutMs}, bounds it).
   */
  public static Loader eventBus(Vertx vertx, long timeoutMs) {
    return (worker, model) -> vertx.eventBus().<JsonObject>request(Addresses.workerModels(worker.workerId()),
            new ModelCommand(ModelCommand.Action.LOAD, model).toJson(), new DeliveryOptions().setSendTimeout(timeoutMs))
        .recover(failure -> Future.failedFuture(new LoadFailedException(errorOf(failure, worker.workerId(), model,
            timeoutMs))))
        .map(reply -> ModelEntry.fromJson(reply.body()));
  }

  /** The worker's typed error from a failed load command, or one that says what went wrong on the way. */
  static GenerateError errorOf(Throwable failure, String workerId, String model, long timeoutMs) {
    if (failure instanceof ReplyException reply) {
      if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
        GenerateError typed = GenerateError.fromReplyException(reply);
        if (typed != null) {
          return typed.workerId() == null ? GenerateError.of(typed.code(), typed.message(), workerId) : typed;
        }
      }
      if (reply.failureType() == ReplyFailure.TIMEOUT) {
        return GenerateError.of(GenerateError.Code.DEADLINE_EXCEEDED, "worker " + workerId + " did not finish loading "
            + "model '" + model + "' within " + timeoutMs + " ms", workerId);
      }
      if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
        return GenerateError.of(GenerateError.Code.WORKER_STOPPING, "worker " + workerId + " does not take model "
            + "commands (it left, or is stopping)", workerId);
      }
    }
    return GenerateError.of(GenerateError.Code.ENGINE_FAILED, "loading model '" + model + "' on worker " + workerId
        + " failed: " + failure.getMessage(), workerId);
  }

  /**
   * Whether the worker has the model ready: a worker without a model directory (or one whose catalog does not list
   * the name, its list being capped) is trusted to; a model directory worker has it when its catalog says loaded, or
   * this gateway saw it finish loading there a moment ago.
   */
  public boolean isWarm(WorkerState worker, String model) {
    ModelCatalog catalog = worker.catalog();
    if (catalog.isEmpty()) {
      return true;
    }
    ModelEntry entry = catalog.lookup(model);
    if (entry == null || entry.loaded()) {
      return true;
    }
    Map<String, Long> hints = warmHints.get(model);
    Long until = hints == null ? null : hints.get(worker.workerId());
    if (until == null) {
      return false;
    }
    if (until < clockMs.getAsLong() || ModelEntry.UNLOADING.equals(entry.state())) {
      hints.remove(worker.workerId());
      if (hints.isEmpty()) {
        warmHints.remove(model);
      }
      return false;
    }
    return true;
  }

  /** The load of the model under way, if any. */
  public Load pending(String model) {
    return pending.get(model);
  }

  /**
   * The model's load: the one under way, else a new one on the worker {@link #choose} picks among {@code cold} (the
   * routable workers that serve the model and have it not loaded; none may be empty).
   */
  public Load load(String model, List<WorkerState> cold) {
    Load running = pending.get(model);
    if (running != null) {
      return running;
    }
    WorkerState worker = choose(model, cold);
    String because = why(model, worker);
    long started = clockMs.getAsLong();
    loadsStarted++;
    log.info("placing model: loading it on a worker", kv("model", model), kv("workerId", worker.workerId()),
        kv("node", worker.nodeId()), kv("because", because), kv("candidates", cold.size()));
    Future<ModelEntry> done = loader.load(worker, model);
    Load load = new Load(model, worker.workerId(), worker.nodeId(), because, started, done);
    pending.put(model, load);
    done.onComplete(result -> {
      pending.remove(model, load);
      long tookMs = clockMs.getAsLong() - started;
      if (result.succeeded()) {
        warmHints.computeIfAbsent(model, m -> new HashMap<>()).put(worker.workerId(), clockMs.getAsLong()
            + WARM_HINT_MS);
        failures.remove(model);
        log.info("model placed: loaded", kv("model", model), kv("workerId", worker.workerId()),
            kv("node", worker.nodeId()), kv("loadMs", tookMs));
      } else {
        String reason = reasonOf(result.cause());
        failures.remove(model);
        failures.put(model, new Failure(model, worker.workerId(), worker.nodeId(), reason, clockMs.getAsLong()));
        Iterator<String> oldest = failures.keySet().iterator();
        while (failures.size() > FAILURES_KEPT) {
          oldest.next();
          oldest.remove();
        }
        log.warn("model placement failed: the worker could not load it", kv("model", model),
            kv("workerId", worker.workerId()), kv("node", worker.nodeId()), kv("loadMs", tookMs),
            kv("reason", reason));
      }
    });
    return load;
  }

  /** The failure's typed error: the worker's, or one naming the worker and the model. */
  public static GenerateError errorOf(Throwable failure, Load load) {
    return failure instanceof LoadFailedException failed ? failed.error()
        : GenerateError.of(GenerateError.Code.ENGINE_FAILED, "loading model '" + load.model() + "' on worker "
            + load.workerId() + " failed: " + failure.getMessage(), load.workerId());
  }

  private static String reasonOf(Throwable failure) {
    return failure instanceof LoadFailedException failed ? failed.error().message()
        : String.valueOf(failure.getMessage());
  }

  /**
   * The worker to load a model that no worker has loaded: one already loading it (the load is joined), else one
   * with room for its file without unloading anything (the room the worker reports for its next model: its rpc
   * pool's free device memory when it runs its models over a pool with members, else its own machine's; see
   * {@link ModelCatalog#freeBytes()}), else one with room once its idle models are unloaded, else one
   * whose room is unknown (it reports neither a memory budget nor its available memory), else the rest; a worker
   * where the model's last load failed comes after all of those. Among equals, the most free room, then the least
   * loaded, then the worker id.
   *
   * @param cold routable workers that serve the model and have it not loaded; not empty
   */
  public static WorkerState choose(String model, List<WorkerState> cold) {
    if (cold.isEmpty()) {
      throw new IllegalArgumentException("no worker to load model '" + model + "' on");
    }
    return cold.stream().min(Comparator.<WorkerState>comparingInt(w -> tier(model, w))
        .thenComparingLong(w -> -Math.max(-1, w.catalog().freeBytes()))
        .thenComparingDouble(WorkerState::utilization)
        .thenComparing(WorkerState::workerId)).orElseThrow();
  }

  /** 0 loading it now; 1 room now; 2 room after unloading idle models; 3 room unknown; 4 no room; 5 it failed there. */
  static int tier(String model, WorkerState worker) {
    ModelCatalog catalog = worker.catalog();
    ModelEntry entry = catalog.lookup(model);
    if (entry == null) {
      return 3;
    }
    if (ModelEntry.LOADING.equals(entry.state())) {
      return 0;
    }
    if (ModelEntry.FAILED.equals(entry.state())) {
      return 5;
    }
    long free = catalog.freeBytes();
    if (free < 0) {
      return 3;
    }
    if (free >= entry.sizeBytes()) {
      return 1;
    }
    return catalog.freeBytesAfterIdleUnload() >= entry.sizeBytes() ? 2 : 4;
  }

  private static String why(String model, WorkerState worker) {
    ModelCatalog catalog = worker.catalog();
    ModelEntry entry = catalog.lookup(model);
    long size = entry == null ? -1 : entry.sizeBytes();
    return switch (tier(model, worker)) {
      case 0 -> "it is loading the model already";
      case 1 -> "most free room (" + catalog.roomKind() + "): " + catalog.freeBytes() + " bytes for a " + size
          + "-byte file";
      case 2 -> "room (" + catalog.roomKind() + ") once its idle models are unloaded (" + catalog.freeBytes()
          + " bytes free, " + catalog.freeBytesAfterIdleUnload() + " then) for a " + size + "-byte file";
      case 3 -> "its free memory is unknown (no memory budget, no MemAvailable)";
      case 4 -> "no worker has room for the " + size + "-byte file; it has the most (" + catalog.roomKind() + ", "
          + catalog.freeBytes() + " bytes free)";
      default -> "the model's last load failed on every worker that serves it; trying again";
    };
  }

  /**
   * The status of a model the cluster serves, over its workers: loaded (some routable worker has it ready), loading,
   * failed (its last load failed on every worker that lists it), else unloaded.
   */
  public String status(String model, List<WorkerState> workers) {
    boolean loading = pending.containsKey(model);
    int failed = 0;
    int listed = 0;
    for (WorkerState worker : workers) {
      if (worker.routable() && isWarm(worker, model)) {
        return ModelEntry.LOADED;
      }
      ModelEntry entry = worker.catalog().lookup(model);
      if (entry != null) {
        listed++;
        loading |= ModelEntry.LOADING.equals(entry.state());
        failed += ModelEntry.FAILED.equals(entry.state()) ? 1 : 0;
      }
    }
    return loading ? ModelEntry.LOADING : listed > 0 && failed == listed ? ModelEntry.FAILED : ModelEntry.UNLOADED;
  }

  /** The loads under way (model, worker, why, for how long, requests held) and the last failures. */
  public JsonObject toJson(java.util.function.ToIntFunction<String> held) {
    long now = clockMs.getAsLong();
    JsonArray loads = new JsonArray();
    List<Load> running = new ArrayList<>(pending.values());
    running.sort(Comparator.comparing(Load::model));
    for (Load load : running) {
      loads.add(new JsonObject().put("model", load.model).put("workerId", load.workerId).put("node", load.nodeId)
          .put("because", load.because).put("forMs", now - load.startedMs).put("requestsHeld", held.applyAsInt(
              load.model)));
    }
    JsonArray failed = new JsonArray();
    List<Failure> last = new ArrayList<>(failures.values());
    for (int i = last.size() - 1; i >= 0; i--) {
      failed.add(last.get(i).toJson());
    }
    return new JsonObject().put("loading", loads).put("loadsStarted", loadsStarted).put("lastFailures", failed);
  }

  /** Loads under way now (tests: concurrent requests for one cold model make one). */
  public int loadsUnderWay() {
    return pending.size();
  }

  public long loadsStarted() {
    return loadsStarted;
  }

  /** Entries kept now, over loads, hints and failures: bounded by the models the workers announce. */
  public int entries() {
    return pending.size() + warmHints.size() + failures.size();
  }
}
