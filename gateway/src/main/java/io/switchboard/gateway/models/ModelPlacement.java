package io.switchboard.gateway.models;

import io.switchboard.gateway.plane.GrpcRequestPlane;
import io.switchboard.gateway.plane.RequestPlane;
import io.switchboard.gateway.plane.WorkerRefusedException;
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
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.function.LongSupplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Where the gateway loads a model of the workers' model directories that is loaded nowhere, and the loads under way.
 * A worker without a model directory has every model it serves ready (warm); a model directory worker has the models
 * its catalog says are loaded, and the one this gateway saw it finish loading a moment ago (its next load report
 * says so within a second). For a model warm on no worker, {@link #choose} picks the worker to load it (one already
 * loading it, else the one with the most room for its file) and {@link #load} sends it the load command, once: every
 * request for that model while the load is under way shares it. A worker whose catalog says the model's last load
 * failed there and that it backs off ({@link ModelEntry#retryAtMs}) is not asked to load it until then; when every
 * worker that could load it backs off, {@link #backedOff} gives the recorded failure at once. The load command goes
 * on the gateway's request plane: the event bus, or the gRPC {@code ControlModel} call ({@link #overPlane}). What is kept here is bounded by the models the
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
            new ModelCommand(ModelCommand.Action.LOAD, model, true).toJson(),
            new DeliveryOptions().setSendTimeout(timeoutMs))
        .recover(failure -> Future.failedFuture(new LoadFailedException(errorOf(failure, worker.workerId(), model,
            timeoutMs))))
        .map(reply -> ModelEntry.fromJson(reply.body()));
  }

  /**
   * Load commands with the gRPC {@code ControlModel} call to the worker's node, with a deadline of {@code timeoutMs}:
   * how a gateway on the gRPC request plane reaches its workers.
   */
  public static Loader grpc(GrpcRequestPlane plane, long timeoutMs) {
    return (worker, model) -> plane.controlModel(worker, new ModelCommand(ModelCommand.Action.LOAD, model, true),
            timeoutMs)
        .recover(failure -> Future.failedFuture(new LoadFailedException(failure instanceof WorkerRefusedException
            refused ? refused.error() : GenerateError.of(GenerateError.Code.ENGINE_FAILED, "loading model '" + model
            + "' on worker " + worker.workerId() + " failed: " + failure.getMessage(), worker.workerId()))));
  }

  /** Load commands on the plane the gateway reaches its workers on: gRPC for the gRPC plane, else the event bus. */
  public static Loader overPlane(Vertx vertx, RequestPlane plane, long timeoutMs) {
    return plane instanceof GrpcRequestPlane grpc ? grpc(grpc, timeoutMs) : eventBus(vertx, timeoutMs);
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
    long now = clockMs.getAsLong();
    List<WorkerState> loadable = cold.stream().filter(w -> !backingOff(model, w, now)).toList();
    WorkerState worker = choose(model, loadable.isEmpty() ? cold : loadable);
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

  /** True when the worker's catalog says the model's last load failed there and it is not tried before a later time. */
  static boolean backingOff(String model, WorkerState worker, long nowMs) {
    ModelEntry entry = worker.catalog().lookup(model);
    return entry != null && entry.backingOff(nowMs);
  }

  /**
   * The recorded failure when no load may start for the model now: every one of {@code cold} (the routable workers
   * that serve it and have it not loaded) backs off after a failed load of it, and none is loading it. The error is
   * the worker's (the one tried again first): its reason naming the model, the worker and the cause, and when it is
   * tried again. Null when some worker may load it (or a load is under way).
   */
  public BackedOff backedOff(String model, List<WorkerState> cold) {
    if (pending.containsKey(model) || cold.isEmpty()) {
      return null;
    }
    long now = clockMs.getAsLong();
    WorkerState first = null;
    for (WorkerState worker : cold) {
      if (!backingOff(model, worker, now)) {
        return null;
      }
      if (first == null || worker.catalog().lookup(model).retryAtMs() < first.catalog().lookup(model).retryAtMs()) {
        first = worker;
      }
    }
    ModelEntry entry = first.catalog().lookup(model);
    long inS = Math.max(1, (entry.retryAtMs() - now + 999) / 1000);
    String reason = entry.reason() != null ? entry.reason() : "model '" + model + "' failed to load on worker "
        + first.workerId();
    return new BackedOff(first.workerId(), first.nodeId(), entry.retryAtMs(), inS, GenerateError.of(
        GenerateError.Code.ENGINE_FAILED, reason + "; it is not loaded again before "
            + Instant.ofEpochMilli(entry.retryAtMs()).truncatedTo(ChronoUnit.SECONDS) + " (in " + inS + " s: the "
            + "worker backs off after a failed load, llamacpp.loadRetryBackoffMs" + (cold.size() > 1 ? "; every one "
            + "of the " + cold.size() + " workers that serve it does" : "") + "). Fix or replace the file, or send the "
            + "worker a load command (switchboard.worker." + first.workerId() + ".models), to try sooner",
        first.workerId()));
  }

  /** No load may start for a model now: the worker tried again first, when, and its recorded failure. */
  public record BackedOff(String workerId, String nodeId, long retryAtMs, long retryInSeconds, GenerateError error) {
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
   * where the model's last load failed comes after all of those ({@link #load} leaves out those that back off). Among equals, the most free room, then the least
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
