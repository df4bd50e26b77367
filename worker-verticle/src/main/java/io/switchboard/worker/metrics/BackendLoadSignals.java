package io.switchboard.worker.metrics;

import io.vertx.core.json.JsonObject;

import java.util.Optional;

/**
 * A backend's own load, normalised from its Prometheus metrics into what a router compares: requests running,
 * requests waiting, and KV-cache usage as a fraction (null where the backend does not export it). Counts are
 * summed over label sets (vLLM has one series per data-parallel engine, SGLang per rank); KV usage is the
 * fullest one, since that is where the next request may stall.
 *
 * @param source which family the numbers came from: vllm, sglang, llamacpp or tgi
 */
public record BackendLoadSignals(String source, Double running, Double waiting, Double kvCacheUsage) {

  /** The families read, in the order they are looked for. */
  private enum Family {
    VLLM("vllm", "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
        "vllm:gpu_cache_usage_perc"),
    SGLANG("sglang", "sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:token_usage", null),
    LLAMACPP("llamacpp", "llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio",
        null),
    TGI("tgi", "tgi_batch_current_size", "tgi_queue_size", null, null);

    final String source;
    final String running;
    final String waiting;
    final String kv;
    final String kvOlderName;

    Family(String source, String running, String waiting, String kv, String kvOlderName) {
      this.source = source;
      this.running = running;
      this.waiting = waiting;
      this.kv = kv;
      this.kvOlderName = kvOlderName;
    }
  }

  /** The signals of the first known family present in {@code metrics}; empty when none is. */
  public static Optional<BackendLoadSignals> from(PrometheusText metrics) {
    for (Family family : Family.values()) {
      Optional<Double> running = metrics.sum(family.running);
      Optional<Double> waiting = metrics.sum(family.waiting);
      if (running.isEmpty() && waiting.isEmpty()) {
        continue;
      }
      Optional<Double> kv = family.kv == null ? Optional.empty() : metrics.max(family.kv);
      if (kv.isEmpty() && family.kvOlderName != null) {
        kv = metrics.max(family.kvOlderName);
      }
      return Optional.of(new BackendLoadSignals(family.source, running.orElse(null), waiting.orElse(null),
          kv.orElse(null)));
    }
    return Optional.empty();
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("source", source);
    if (running != null) {
      json.put("running", running);
    }
    if (waiting != null) {
      json.put("waiting", waiting);
    }
    if (kvCacheUsage != null) {
      json.put("kvCacheUsage", kvCacheUsage);
    }
    return json;
  }
}
