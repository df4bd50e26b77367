package io.switchboard.worker.llamacpp;

import io.switchboard.worker.metrics.PrometheusText;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.function.Supplier;

/**
 * Reads llama-server's own view of its load every second: {@code /slots} (how many slots, how many busy) and,
 * when it runs with {@code --metrics}, {@code /metrics} (requests processing and deferred, KV cache usage).
 * The latest reading goes into the worker's load report, so the router and {@code /admin/cluster} see the
 * backend's numbers, not only the worker's. A failed read keeps the error in the reading instead of stale
 * numbers. Used only on the worker's event loop.
 */
final class LlamaServerLoadPoller {

  static final long INTERVAL_MS = 1000;

  private final Vertx vertx;
  private final HttpClient client;
  private final Supplier<RequestOptions> target;
  private JsonObject reading = new JsonObject();
  private long timer = -1;
  private boolean polling;

  /** @param target where llama-server is now (its port may change across restarts) */
  LlamaServerLoadPoller(Vertx vertx, HttpClient client, Supplier<RequestOptions> target) {
    this.vertx = vertx;
    this.client = client;
    this.target = target;
  }

  void start() {
    timer = vertx.setPeriodic(0, INTERVAL_MS, id -> poll());
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  JsonObject reading() {
    return reading;
  }

  private void poll() {
    RequestOptions base = target.get();
    if (polling || base == null) {
      return;
    }
    polling = true;
    Future<JsonObject> slots = get(base, "/slots").map(body -> {
      JsonArray list = new JsonArray(body);
      int busy = 0;
      for (int i = 0; i < list.size(); i++) {
        if (list.getJsonObject(i).getBoolean("is_processing", false)) {
          busy++;
        }
      }
      return new JsonObject().put("slots", list.size()).put("slotsBusy", busy);
    });
    Future<JsonObject> metrics = get(base, "/metrics").map(body -> {
      PrometheusText text = PrometheusText.parse(body);
      JsonObject values = new JsonObject();
      text.value("llamacpp:requests_processing").ifPresent(v -> values.put("requestsProcessing", v));
      text.value("llamacpp:requests_deferred").ifPresent(v -> values.put("requestsDeferred", v));
      text.firstOf("llamacpp:kv_cache_usage_ratio").ifPresent(v -> values.put("kvCacheUsage", v));
      return values;
    });
    Future.join(slots, metrics).onComplete(done -> {
      polling = false;
      JsonObject next = new JsonObject().put("readAtMs", System.currentTimeMillis());
      if (slots.succeeded()) {
        next.mergeIn(slots.result());
      } else {
        next.put("slotsError", String.valueOf(slots.cause().getMessage()));
      }
      if (metrics.succeeded()) {
        next.mergeIn(metrics.result());
      } else {
        next.put("metricsError", String.valueOf(metrics.cause().getMessage()));
      }
      reading = next;
    });
  }

  private Future<String> get(RequestOptions base, String path) {
    return client.request(new RequestOptions(base).setMethod(HttpMethod.GET).setURI(base.getURI() + path))
        .compose(req -> req.send().compose(resp -> resp.body().compose(body -> resp.statusCode() == 200
            ? Future.succeededFuture(body.toString())
            : Future.failedFuture("GET " + path + " answered HTTP " + resp.statusCode()))));
  }
}
