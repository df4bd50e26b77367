package io.switchboard.worker.openai;

import io.switchboard.worker.metrics.BackendLoadSignals;
import io.switchboard.worker.metrics.PrometheusText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Keeps an openai worker's picture of its backend current: which models it serves ({@code /v1/models}, every
 * {@code modelsRefreshMs}), whether it is healthy (its kind's health endpoint, every {@code healthIntervalMs};
 * down after {@code unhealthyAfter} failures in a row, up again after one success), and how loaded it is (its
 * Prometheus {@code /metrics}, normalised into running / waiting / KV-cache usage). Also learns the backend's
 * kind when the config says {@code auto}: from {@code owned_by}, else from its metric names. Used only on the
 * worker's event loop.
 */
final class BackendMonitor {

  private static final Logger log = LoggerFactory.getLogger(BackendMonitor.class);
  /** How often a backend without /metrics is asked again (it may be restarted with metrics on). */
  private static final long METRICS_ABSENT_RETRY_MS = 30_000;

  private final Vertx vertx;
  private final HttpClient client;
  private final BackendEndpoint endpoint;
  private final OpenAiOptions options;
  private final BackendModelCatalog catalog;
  private final String workerId;
  private BackendKind kind;
  private String kindSource;
  private boolean healthy;
  private int failuresInRow;
  private String healthError = "not checked yet";
  private long lastHealthChangeMs = System.currentTimeMillis();
  private String modelsError = "not read yet";
  private JsonObject load;
  private String loadNote = "not read yet";
  private long metricsAbsentUntilMs;
  private boolean checkingHealth;
  private boolean readingModels;
  private boolean readingMetrics;
  private final long[] timers = {-1, -1, -1};
  private Runnable onHealthy = () -> { };

  BackendMonitor(Vertx vertx, HttpClient client, BackendEndpoint endpoint, OpenAiOptions options,
                 BackendModelCatalog catalog, String workerId) {
    this.vertx = vertx;
    this.client = client;
    this.endpoint = endpoint;
    this.options = options;
    this.catalog = catalog;
    this.workerId = workerId;
    BackendKind configured = BackendKind.fromConfig(options.getKind());
    if (configured != null) {
      learnKind(configured, "configured");
    }
  }

  /** Reads everything once (whatever the outcome: a backend that is down is watched, not fatal), then polls. */
  Future<Void> start() {
    return Future.join(readModels(), readMetrics()).transform(v -> checkHealth()).transform(v -> {
      timers[0] = vertx.setPeriodic(options.getHealthIntervalMs(), id -> checkHealth());
      timers[1] = vertx.setPeriodic(options.getModelsRefreshMs(), id -> readModels());
      if (metricsEnabled()) {
        timers[2] = vertx.setPeriodic(options.getMetricsIntervalMs(), id -> readMetrics());
      }
      return Future.succeededFuture();
    });
  }

  /** Called each time the backend turns healthy (at start too), e.g. to probe what it serves. */
  void onHealthy(Runnable action) {
    this.onHealthy = action;
  }

  void stop() {
    for (long timer : timers) {
      vertx.cancelTimer(timer);
    }
  }

  BackendKind kind() {
    return kind == null ? BackendKind.OPENAI : kind;
  }

  /** Null when the backend can take work; otherwise why not. */
  String unavailableReason() {
    if (!healthy) {
      return endpoint.name() + " is unhealthy: " + healthError;
    }
    if (catalog.isEmpty()) {
      return modelsError != null ? endpoint.name() + "'s model list could not be read: " + modelsError
          : endpoint.name() + " lists no models at /v1/models"
              + (catalog.skipped().isEmpty() ? "" : " that openai.models allows (it has " + catalog.skipped() + ")");
    }
    return null;
  }

  /** Asks for the model list now (a backend answered 404 for a model it listed). */
  void refreshModels() {
    readModels();
  }

  JsonObject status() {
    JsonObject health = new JsonObject().put("healthy", healthy).put("path", healthPath())
        .put("failuresInRow", failuresInRow).put("sinceMs", lastHealthChangeMs);
    if (healthError != null) {
      health.put("lastError", healthError);
    }
    JsonObject status = new JsonObject()
        .put("backend", endpoint.name())
        .put("url", options.baseUri().toString())
        .put("kind", kind().configName())
        .put("kindFrom", kind == null ? "default (not recognised; set openai.kind)" : kindSource)
        .put("health", health)
        .put("models", catalog.toJson());
    if (modelsError != null) {
      status.put("modelsError", modelsError);
    }
    if (!catalog.skipped().isEmpty()) {
      status.put("modelsNotServed", new JsonArray(List.copyOf(catalog.skipped())));
    }
    if (load != null) {
      status.put("backendLoad", load);
    }
    if (loadNote != null) {
      status.put("backendLoadNote", loadNote);
    }
    return status;
  }

  private String healthPath() {
    if (options.getHealthPath() != null && !options.getHealthPath().isEmpty()) {
      return options.getHealthPath();
    }
    return kind().healthPath();
  }

  private Future<Void> checkHealth() {
    if (checkingHealth) {
      return Future.succeededFuture();
    }
    checkingHealth = true;
    String path = healthPath();
    return endpoint.get(client, path).onComplete(done -> {
      checkingHealth = false;
      if (done.succeeded()) {
        healthError = null;
        failuresInRow = 0;
        if (!healthy) {
          healthy = true;
          lastHealthChangeMs = System.currentTimeMillis();
          log.info("backend healthy; worker takes requests", kv("workerId", workerId),
              kv("backend", endpoint.name()), kv("healthPath", path));
          if (catalog.isEmpty()) {
            readModels();
          }
          onHealthy.run();
        }
        return;
      }
      failuresInRow++;
      healthError = "GET " + path + " failed " + failuresInRow + " time" + (failuresInRow == 1 ? "" : "s")
          + " in a row: " + done.cause().getMessage();
      if (healthy && failuresInRow >= options.getUnhealthyAfter()) {
        healthy = false;
        lastHealthChangeMs = System.currentTimeMillis();
        log.warn("backend unhealthy; worker takes no requests until it recovers", kv("workerId", workerId),
            kv("backend", endpoint.name()), kv("reason", healthError));
      }
    }).<Void>mapEmpty().recover(failure -> Future.succeededFuture());
  }

  private Future<Void> readModels() {
    if (readingModels) {
      return Future.succeededFuture();
    }
    readingModels = true;
    return endpoint.get(client, "/v1/models").map(body -> {
      catalog.update(new JsonObject(body));
      return (Void) null;
    }).onComplete(done -> {
      readingModels = false;
      if (done.failed()) {
        modelsError = done.cause().getMessage();
        log.warn("could not read the backend's models", kv("workerId", workerId), kv("backend", endpoint.name()),
            kv("reason", modelsError));
        return;
      }
      if (modelsError != null) {
        log.info("backend models read", kv("workerId", workerId), kv("backend", endpoint.name()),
            kv("models", catalog.served()));
      }
      modelsError = null;
      if (kind == null) {
        BackendKind owned = BackendKind.fromOwnedBy(catalog.ownedBy());
        if (owned != null) {
          learnKind(owned, "owned_by \"" + catalog.ownedBy() + "\" in /v1/models");
        }
      }
    }).<Void>mapEmpty().recover(failure -> Future.succeededFuture());
  }

  private boolean metricsEnabled() {
    return options.getMetricsPath() != null && !options.getMetricsPath().isEmpty();
  }

  private Future<Void> readMetrics() {
    if (!metricsEnabled()) {
      loadNote = "metrics scraping is off (openai.metricsPath is empty): load is this worker's in-flight count";
      return Future.succeededFuture();
    }
    if (readingMetrics || System.currentTimeMillis() < metricsAbsentUntilMs) {
      return Future.succeededFuture();
    }
    readingMetrics = true;
    String path = options.getMetricsPath();
    return endpoint.get(client, path).onComplete(done -> {
      readingMetrics = false;
      if (done.failed()) {
        load = null;
        String reason = done.cause().getMessage();
        if (reason.contains("HTTP 404")) {
          metricsAbsentUntilMs = System.currentTimeMillis() + METRICS_ABSENT_RETRY_MS;
          loadNote = "the backend has no Prometheus metrics at " + path + " (HTTP 404): load is this worker's "
              + "in-flight count";
        } else {
          loadNote = "could not read " + path + ": " + reason;
        }
        return;
      }
      Optional<BackendLoadSignals> signals = BackendLoadSignals.from(PrometheusText.parse(done.result().toString()));
      if (signals.isEmpty()) {
        load = null;
        loadNote = path + " has none of the load metrics Switchboard reads (vllm:, sglang:, llamacpp:, tgi_): "
            + "load is this worker's in-flight count";
        return;
      }
      load = signals.get().toJson().put("readAtMs", System.currentTimeMillis());
      loadNote = null;
      if (kind == null) {
        BackendKind fromMetrics = BackendKind.fromMetricsSource(signals.get().source());
        if (fromMetrics != null) {
          learnKind(fromMetrics, "its metric names (" + signals.get().source() + ")");
        }
      }
    }).<Void>mapEmpty().recover(failure -> Future.succeededFuture());
  }

  private void learnKind(BackendKind learned, String source) {
    kind = learned;
    kindSource = source;
    endpoint.kindLearned(learned);
  }
}
