package io.switchboard.gateway.registry;

import io.switchboard.protocol.LoadReport;
import io.switchboard.protocol.ModelCatalog;
import io.switchboard.protocol.ModelEntry;
import io.switchboard.protocol.WorkerDescriptor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import java.util.List;

/**
 * What a gateway knows of one worker at one moment: its discovery record and its latest load report, and
 * whether it may be routed to now (and if not, why, in words an operator understands).
 *
 * @param lastReportAgeMs age of the last load report; -1 when none has arrived
 * @param exclusion       null when routable, else the reason it is not
 * @param outstanding     generations running plus waiting on the worker, from its last report (see
 *                        {@link #outstandingOf}); computed once, because routing reads it for every candidate
 * @param openHere        requests this gateway has open on the worker now (exact, unlike the reports)
 */
public record WorkerState(WorkerDescriptor descriptor, LoadReport load, long lastReportAgeMs, String exclusion,
                          int outstanding, LocalInFlight openHere) {

  public WorkerState(WorkerDescriptor descriptor, LoadReport load, long lastReportAgeMs, String exclusion) {
    this(descriptor, load, lastReportAgeMs, exclusion, outstandingOf(load), new LocalInFlight());
  }

  public WorkerState(WorkerDescriptor descriptor, LoadReport load, long lastReportAgeMs, String exclusion,
                     LocalInFlight openHere) {
    this(descriptor, load, lastReportAgeMs, exclusion, outstandingOf(load), openHere);
  }

  public String workerId() {
    return descriptor.workerId();
  }

  public String nodeId() {
    return descriptor.nodeId();
  }

  /** The announced model; empty for a worker that learns its models (see {@link #models()}). */
  public String model() {
    return descriptor.model();
  }

  /** Every model the worker serves now: from its last load report, else the one it announced. */
  public List<String> models() {
    return modelsOf(descriptor, load);
  }

  /** What {@link #models()} would say, without building the state (the registry filters by it first). */
  static List<String> modelsOf(WorkerDescriptor descriptor, LoadReport load) {
    if (load != null) {
      return load.servedModels();
    }
    return descriptor.model().isEmpty() ? List.of() : List.of(descriptor.model());
  }

  public boolean serves(String model) {
    return models().contains(model);
  }

  public List<String> embeddingModels() {
    return embeddingModelsOf(load);
  }

  static List<String> embeddingModelsOf(LoadReport load) {
    return load == null ? List.of() : load.embeddingModels();
  }

  public boolean servesEmbeddings(String model) {
    return embeddingModels().contains(model);
  }

  /**
   * The dialects the worker's backend serves natively: from its last load report when it says (an openai worker
   * learns them from its backend at run time), else its record's.
   */
  public List<String> nativeDialects() {
    return load != null && load.nativeDialects() != null ? load.nativeDialects() : descriptor.nativeDialects();
  }

  /**
   * The worker's model directory catalog: from its last load report (the states now), else its record's (the states
   * when it published); {@link ModelCatalog#EMPTY} for a worker without a model directory.
   */
  public ModelCatalog catalog() {
    return load != null && !load.catalog().isEmpty() ? load.catalog() : descriptor.catalog();
  }

  public boolean routable() {
    return exclusion == null;
  }

  /**
   * What the router counts as this worker's load: the requests this gateway has open on it, or what the
   * worker last reported when that is more (other gateways' requests, or clients of a shared backend). The
   * gateway's own count is exact and immediate; reports arrive once a second.
   */
  public int routingLoad() {
    return Math.max(openHere.get(), outstanding);
  }

  /** {@link #routingLoad()} per slot: comparable between workers of different sizes. */
  public double utilization() {
    return routingLoad() / (double) Math.max(1, descriptor.slots());
  }

  /**
   * Generations running plus waiting, from the last report; 0 when none arrived. When the worker reports its
   * backend's own counts (read from the backend's metrics), the larger of the two: a backend shared with
   * other clients is busier than this worker alone knows.
   */
  public static int outstandingOf(LoadReport load) {
    if (load == null) {
      return 0;
    }
    int own = load.inFlight() + load.queued();
    JsonObject backend = load.engine().getJsonObject("backendLoad");
    if (backend == null) {
      return own;
    }
    double reported = backend.getDouble("running", 0.0) + backend.getDouble("waiting", 0.0);
    return Math.max(own, (int) Math.round(reported));
  }

  /**
   * A model directory worker's models by state (loaded, loading, unloading, available: not loaded; failed, each with
   * why), and its memory: the budget, what the machine has available, what the loaded models hold, the room left.
   */
  static JsonObject libraryJson(ModelCatalog catalog) {
    JsonArray loaded = new JsonArray();
    JsonArray loading = new JsonArray();
    JsonArray unloading = new JsonArray();
    JsonArray available = new JsonArray();
    JsonArray failed = new JsonArray();
    for (ModelEntry entry : catalog.models()) {
      switch (entry.state()) {
        case ModelEntry.LOADED -> loaded.add(entry.name());
        case ModelEntry.LOADING -> loading.add(entry.name());
        case ModelEntry.UNLOADING -> unloading.add(entry.name());
        case ModelEntry.FAILED -> {
          JsonObject failure = new JsonObject().put("model", entry.name()).put("reason", entry.reason());
          if (entry.retryAtMs() > 0) {
            // The worker backs off after the failed load: not loaded there again before then.
            failure.put("retryAtMs", entry.retryAtMs())
                .put("retryAt", Instant.ofEpochMilli(entry.retryAtMs()).truncatedTo(ChronoUnit.SECONDS).toString());
          }
          failed.add(failure);
        }
        default -> available.add(entry.name());
      }
    }
    JsonObject json = new JsonObject().put("loaded", loaded).put("loading", loading).put("unloading", unloading)
        .put("available", available).put("failed", failed).put("total", catalog.total())
        .put("occupiedBytes", catalog.occupiedBytes()).put("freeBytes", catalog.freeBytes());
    if (catalog.budgetBytes() > 0) {
      json.put("budgetBytes", catalog.budgetBytes());
    }
    if (catalog.availableBytes() >= 0) {
      json.put("availableBytes", catalog.availableBytes());
    }
    if (catalog.rpcPool().active()) {
      ModelEntry holder = catalog.rpcHolder();
      json.put("rpcPool", catalog.rpcPool().toJson().put("heldBy", holder == null ? null : holder.name()));
    }
    json.put("room", catalog.roomKind());
    JsonArray models = new JsonArray();
    catalog.models().forEach(entry -> models.add(entry.toJson()));
    return json.put("models", models);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("workerId", descriptor.workerId())
        .put("model", descriptor.model())
        .put("models", new JsonArray(models()))
        .put("embeddingModels", new JsonArray(embeddingModels()))
        .put("node", descriptor.nodeId())
        .put("engine", descriptor.engine())
        .put("slots", descriptor.slots())
        .put("contextLength", descriptor.contextLength())
        .put("endpoints", descriptor.endpoints())
        .put("nativeDialects", new JsonArray(nativeDialects()))
        .put("status", routable() ? "routable" : "excluded")
        .put("openFromThisGateway", openHere.get())
        .put("lastReportAgeMs", lastReportAgeMs);
    if (exclusion != null) {
      json.put("excludedBecause", exclusion);
    }
    if (load != null) {
      json.put("load", new JsonObject()
          .put("inFlight", load.inFlight())
          .put("queued", load.queued())
          .put("freeSlots", load.freeSlots())
          .put("draining", load.draining()));
      if (!load.engine().isEmpty()) {
        json.put("engineStatus", load.engine());
      }
    }
    ModelCatalog catalog = catalog();
    if (!catalog.isEmpty()) {
      json.put("library", libraryJson(catalog));
    }
    return json;
  }
}
