package io.switchboard.bench;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The router benchmark's table: one row per policy run, then prefix-aware against round-robin. */
final class RouterReport {

  private RouterReport() {
  }

  static String table(Path results) throws IOException {
    Map<String, JsonObject> runs = new LinkedHashMap<>();
    for (String line : Files.readAllLines(results)) {
      if (!line.isBlank()) {
        JsonObject run = new JsonObject(line);
        runs.put(run.getString("policy"), run);
      }
    }
    StringBuilder out = new StringBuilder();
    if (runs.isEmpty()) {
      return "router-bench: no results in " + results + "\n";
    }
    out.append("workload: ").append(runs.values().iterator().next().getString("workload")).append('\n');
    out.append("prefill = offered prompt work after cache hits / the workers' prefill capacity (over 100%: the "
        + "policy cannot keep up at this rate); cache hit = prompt tokens the workers found cached; router est = "
        + "what the router expected; max/mean = requests of the busiest worker / the mean\n");
    out.append(String.format(Locale.ROOT, "%-17s %6s %6s %6s %9s %9s %9s %8s %9s %10s %8s %8s%n", "policy", "sent",
        "failed", "unfin.", "ttft p50", "ttft p90", "ttft p99", "thrpt/s", "cache hit", "router est", "prefill",
        "max/mean"));
    for (JsonObject run : runs.values()) {
      double estimate = run.getDouble("routerEstimatedHitRate", -1.0);
      out.append(String.format(Locale.ROOT, "%-17s %6d %6d %6d %7.0fms %7.0fms %7.0fms %8.2f %8.1f%% %10s %7.0f%% %8.2f%n",
          run.getString("policy"), run.getLong("sent"), run.getLong("failed"), run.getLong("unfinished"),
          run.getDouble("ttftP50Ms"), run.getDouble("ttftP90Ms"), run.getDouble("ttftP99Ms"),
          run.getDouble("throughputRps"), 100 * run.getDouble("cacheHitRate"),
          estimate < 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * estimate),
          100 * run.getDouble("prefillDemand", 0.0), run.getDouble("maxMeanLoad")));
    }
    JsonObject prefix = runs.get("prefix-aware");
    JsonObject roundRobin = runs.get("round-robin");
    if (prefix != null && roundRobin != null) {
      out.append(String.format(Locale.ROOT,
          "prefix-aware vs round-robin: ttft_p50_ratio=%.3f throughput_ratio=%.2f max_load_ratio=%.2f%n",
          prefix.getDouble("ttftP50Ms") / roundRobin.getDouble("ttftP50Ms"),
          prefix.getDouble("throughputRps") / roundRobin.getDouble("throughputRps"),
          prefix.getDouble("maxMeanLoad")));
    }
    return out.toString();
  }
}
