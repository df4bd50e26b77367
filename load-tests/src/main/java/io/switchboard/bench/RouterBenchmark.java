package io.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.switchboard.bench.BenchOptions.percentile;

/**
 * Open-loop load with a multi-turn, shared-prefix workload ({@link RouterWorkload}) against one model of a
 * running gateway, to compare routing policies: the same requests at the same times for each. Measures time
 * to first token, throughput (requests completed per second inside the measured window), the prefix cache hit
 * rate the workers report ({@code usage.prompt_tokens_details.cached_tokens}), the router's own estimate of it
 * (from the gateway's metrics) and how evenly the workers were loaded. Appends one JSON line per run to
 * {@code --out}; {@code --report FILE} prints the table of a results file.
 *
 * <p>The arrival rate is set from {@code --load}: the rate at which, were every reusable prefix cached, the
 * workers' prefill compute ({@code --prefill-tokens-per-second} each, as configured for the mocker) would be
 * that busy. Loopback targets only.
 */
public final class RouterBenchmark {

  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("url", "http://127.0.0.1:18090/v1/chat/completions");
    DEFAULTS.put("policy", "prefix-aware");
    DEFAULTS.put("model", "");
    DEFAULTS.put("workers", "4");
    DEFAULTS.put("tenants", "16");
    DEFAULTS.put("system-tokens", "1000");
    DEFAULTS.put("user-tokens", "60");
    DEFAULTS.put("assistant-tokens", "40");
    DEFAULTS.put("turns", "4");
    DEFAULTS.put("sessions", "32");
    DEFAULTS.put("max-tokens", "16");
    DEFAULTS.put("load", "0.6");
    DEFAULTS.put("prefill-tokens-per-second", "1500");
    DEFAULTS.put("kv-block-size", "16");
    DEFAULTS.put("warmup-seconds", "5");
    DEFAULTS.put("duration-seconds", "10");
    DEFAULTS.put("drain-seconds", "3");
    DEFAULTS.put("seed", "1");
    DEFAULTS.put("out", "");
    DEFAULTS.put("report", "");
  }

  private final URI url;
  private final String policy;
  private final String model;
  private final int workers;
  private final int maxTokens;
  private final double rate;
  private final double prefillRate;
  private final long warmupNanos;
  private final long durationNanos;
  private final long drainNanos;
  private final List<RouterWorkload.Turn> schedule;
  private final List<io.vertx.core.json.JsonArray> warmups;
  private final Path out;
  private final String workloadLine;

  private final List<Result> results = new ArrayList<>();
  private int outstanding;
  private long startNanos;
  private final CountDownLatch done = new CountDownLatch(1);

  /** What happened to one request. */
  private static final class Result {
    long sentNanos;
    long firstTokenNanos = -1;
    long endNanos = -1;
    boolean ok;
    String failure;
    String worker;
    int promptTokens;
    int cachedTokens;
    boolean measured;
  }

  private RouterBenchmark(Map<String, String> options) {
    url = BenchOptions.loopbackUrl(options.get("url"));
    policy = options.get("policy").trim();
    model = options.get("model").isBlank() ? "bench-" + policy : options.get("model").trim();
    workers = BenchOptions.positiveInt(options, "workers");
    maxTokens = BenchOptions.positiveInt(options, "max-tokens");
    double load = BenchOptions.positiveDouble(options, "load");
    prefillRate = BenchOptions.positiveDouble(options, "prefill-tokens-per-second");
    warmupNanos = TimeUnit.SECONDS.toNanos(BenchOptions.nonNegativeInt(options, "warmup-seconds"));
    durationNanos = TimeUnit.SECONDS.toNanos(BenchOptions.positiveInt(options, "duration-seconds"));
    drainNanos = TimeUnit.SECONDS.toNanos(BenchOptions.nonNegativeInt(options, "drain-seconds"));
    RouterWorkload workload = new RouterWorkload(BenchOptions.positiveInt(options, "seed"),
        BenchOptions.positiveInt(options, "tenants"), BenchOptions.positiveInt(options, "system-tokens"),
        BenchOptions.positiveInt(options, "user-tokens"), BenchOptions.positiveInt(options, "assistant-tokens"),
        BenchOptions.positiveInt(options, "turns"), BenchOptions.positiveInt(options, "sessions"));
    double idealTokens = workload.meanIdealUncachedTokens();
    // The engine reuses whole KV blocks only: each request also recomputes half a block on average.
    idealTokens += BenchOptions.positiveInt(options, "kv-block-size") / 2.0;
    rate = load * workers * prefillRate / idealTokens;
    warmups = workload.warmups();
    schedule = workload.schedule(rate, (warmupNanos + durationNanos) / 1e9, warmupNanos / 1e9);
    out = options.get("out").isBlank() ? null : Path.of(options.get("out"));
    workloadLine = String.format(Locale.ROOT, "%d workers, %s tenants x %s-token system prompt, %s sessions open, "
            + "%s turns each (+%s user, +%s assistant tokens a turn), max_tokens %d; %.1f new prompt tokens a request "
            + "when cached ideally (new messages + half a KV block); load %.2f of %.0f prefill tokens/s per worker = %.1f requests/s", workers,
        options.get("tenants"), options.get("system-tokens"), options.get("sessions"), options.get("turns"),
        options.get("user-tokens"), options.get("assistant-tokens"), maxTokens, idealTokens, load, prefillRate, rate);
  }

  public static void main(String[] args) {
    Map<String, String> options;
    try {
      options = BenchOptions.parse(args, DEFAULTS);
      if (options.containsKey("help")) {
        System.out.println(BenchOptions.usage("usage: java -cp load-tests/target/switchboard-bench.jar "
            + "io.switchboard.bench.RouterBenchmark [options]", DEFAULTS));
        return;
      }
      if (!options.get("report").isBlank()) {
        System.out.print(RouterReport.table(Path.of(options.get("report"))));
        return;
      }
      System.exit(new RouterBenchmark(options).run());
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("router-bench: " + e.getMessage());
      System.exit(2);
    }
  }

  int run() throws IOException {
    Vertx vertx = Vertx.vertx();
    long hardLimitMs = TimeUnit.NANOSECONDS.toMillis(warmupNanos + durationNanos + drainNanos) + 20_000;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(hardLimitMs);
        System.err.println("router-bench: did not finish within " + hardLimitMs + " ms; giving up");
        Runtime.getRuntime().halt(3);
      } catch (InterruptedException ignored) {
        // finished normally
      }
    }, "router-bench-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    System.out.printf(Locale.ROOT, "router-bench: policy %s (model %s): %s; %d requests over %d s%n", policy, model,
        workloadLine, schedule.size(), TimeUnit.NANOSECONDS.toSeconds(warmupNanos + durationNanos));

    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)
        .setTcpNoDelay(true).setConnectTimeout(5_000), new PoolOptions().setHttp1MaxSize(1024));
    Context context = vertx.getOrCreateContext();
    CountDownLatch warmed = new CountDownLatch(warmups.size());
    context.runOnContext(v -> {
      for (int t = 0; t < warmups.size(); t++) {
        post(client, warmups.get(t), "warmup-" + t, 1, new SseEvents(data -> { }))
            .onComplete(done -> warmed.countDown());
      }
    });
    try {
      if (!warmed.await(60, TimeUnit.SECONDS)) {
        System.err.println("router-bench: the warm-up requests did not all finish within 60 s; going on");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    context.runOnContext(v -> {
      startNanos = System.nanoTime();
      for (RouterWorkload.Turn turn : schedule) {
        long delayMs = TimeUnit.NANOSECONDS.toMillis(turn.atNanos());
        if (delayMs < 1) {
          send(client, turn);
        } else {
          vertx.setTimer(delayMs, id -> send(client, turn));
        }
      }
      long endMs = TimeUnit.NANOSECONDS.toMillis(warmupNanos + durationNanos + drainNanos);
      vertx.setTimer(endMs + 1, id -> done.countDown());
    });
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    CountDownLatch summarised = new CountDownLatch(1);
    JsonObject[] line = new JsonObject[1];
    context.runOnContext(v -> {
      line[0] = summary();
      summarised.countDown();
    });
    try {
      summarised.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
    JsonObject summary = routerMetrics(line[0]);
    System.out.println("router-bench: " + summary.encode());
    if (out != null) {
      Files.writeString(out, summary.encode() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
    client.close();
    vertx.close();
    return 0;
  }

  private void send(HttpClientAgent client, RouterWorkload.Turn turn) {
    Result result = new Result();
    results.add(result);
    result.sentNanos = System.nanoTime();
    result.measured = result.sentNanos - startNanos >= warmupNanos
        && result.sentNanos - startNanos < warmupNanos + durationNanos;
    outstanding++;
    SseEvents events = new SseEvents(data -> onEvent(result, data));
    post(client, turn.messages(), turn.session(), maxTokens, events)
        .onSuccess(response -> {
          result.worker = response.getHeader("x-switchboard-worker");
          if (response.statusCode() != 200) {
            response.body().onComplete(b -> end(result, "HTTP " + response.statusCode()));
            return;
          }
          response.handler(events::feed);
          response.endHandler(v -> end(result, result.ok ? null : "stream ended without [DONE]"));
          response.exceptionHandler(failure -> end(result, failure.toString()));
        })
        .onFailure(failure -> end(result, failure.toString()));
  }

  private io.vertx.core.Future<io.vertx.core.http.HttpClientResponse> post(HttpClientAgent client,
      io.vertx.core.json.JsonArray messages, String session, int tokens, SseEvents events) {
    Buffer body = new JsonObject().put("model", model).put("messages", messages).put("max_tokens", tokens)
        .put("stream", true).put("stream_options", new JsonObject().put("include_usage", true)).toBuffer();
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST)
        .setHost(url.getHost()).setPort(url.getPort()).setURI(url.getRawPath())
        .putHeader("content-type", "application/json").putHeader("x-session-id", session)
        .setIdleTimeout(TimeUnit.NANOSECONDS.toMillis(warmupNanos + durationNanos + drainNanos));
    return client.request(request).compose(req -> req.send(body)).compose(response -> {
      if (response.statusCode() == 200 && session.startsWith("warmup-")) {
        response.handler(events::feed);
        return response.end().map(response);
      }
      return io.vertx.core.Future.succeededFuture(response);
    });
  }

  private void onEvent(Result result, String data) {
    if (data.equals("[DONE]")) {
      result.ok = true;
      return;
    }
    JsonObject event = new JsonObject(data);
    if (event.containsKey("error")) {
      result.failure = event.getJsonObject("error").getString("message");
      return;
    }
    var choices = event.getJsonArray("choices");
    if (result.firstTokenNanos < 0 && choices != null && !choices.isEmpty()) {
      JsonObject delta = choices.getJsonObject(0).getJsonObject("delta", new JsonObject());
      String content = delta.getString("content");
      if (content != null && !content.isEmpty()) {
        result.firstTokenNanos = System.nanoTime();
      }
    }
    JsonObject usage = event.getJsonObject("usage");
    if (usage != null) {
      result.promptTokens = usage.getInteger("prompt_tokens", 0);
      JsonObject details = usage.getJsonObject("prompt_tokens_details");
      result.cachedTokens = details == null ? 0 : details.getInteger("cached_tokens", 0);
    }
  }

  private void end(Result result, String failure) {
    if (result.endNanos >= 0) {
      return;
    }
    result.endNanos = System.nanoTime();
    if (failure != null && result.failure == null) {
      result.failure = failure;
    }
    result.ok = result.ok && result.failure == null;
    outstanding--;
  }

  private JsonObject summary() {
    long windowStart = startNanos + warmupNanos;
    long windowEnd = windowStart + durationNanos;
    List<Long> ttfts = new ArrayList<>();
    long completedInWindow = 0;
    long measured = 0;
    long completed = 0;
    long failed = 0;
    long unfinished = 0;
    long promptTokens = 0;
    long cachedTokens = 0;
    long mostlyUncached = 0;
    Map<String, Integer> perWorker = new TreeMap<>();
    Map<String, Integer> failures = new TreeMap<>();
    for (Result result : results) {
      if (result.ok && result.endNanos >= windowStart && result.endNanos < windowEnd) {
        completedInWindow++;
      }
      if (!result.measured) {
        continue;
      }
      measured++;
      if (result.worker != null) {
        perWorker.merge(result.worker, 1, Integer::sum);
      }
      if (result.endNanos < 0) {
        unfinished++;
      } else if (!result.ok) {
        failed++;
        failures.merge(String.valueOf(result.failure), 1, Integer::sum);
      } else {
        completed++;
        ttfts.add(result.firstTokenNanos - result.sentNanos);
        promptTokens += result.promptTokens;
        cachedTokens += result.cachedTokens;
        if (result.cachedTokens < result.promptTokens / 2) {
          mostlyUncached++;
        }
      }
    }
    long[] sorted = ttfts.stream().mapToLong(Long::longValue).sorted().toArray();
    // Requests still waiting for their response head have no known worker: the mean is over those that do.
    int max = perWorker.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    double mean = perWorker.values().stream().mapToInt(Integer::intValue).sum() / (double) workers;
    return new JsonObject()
        .put("policy", policy)
        .put("model", model)
        .put("workload", workloadLine)
        .put("sent", measured)
        .put("completed", completed)
        .put("failed", failed)
        .put("unfinished", unfinished)
        .put("ttftP50Ms", ms(percentile(sorted, 50)))
        .put("ttftP90Ms", ms(percentile(sorted, 90)))
        .put("ttftP99Ms", ms(percentile(sorted, 99)))
        .put("throughputRps", completedInWindow / (durationNanos / 1e9))
        .put("offeredRps", rate)
        .put("cacheHitRate", promptTokens == 0 ? 0.0 : cachedTokens / (double) promptTokens)
        .put("promptTokensPerRequest", completed == 0 ? 0.0 : promptTokens / (double) completed)
        .put("mostlyUncachedRequests", mostlyUncached)
        .put("prefillDemand", completed == 0 ? 0.0
            : rate * (promptTokens - cachedTokens) / (double) completed / (workers * prefillRate))
        .put("uncachedTokensPerRequest", completed == 0 ? 0.0 : (promptTokens - cachedTokens) / (double) completed)
        .put("maxMeanLoad", mean == 0 ? 0.0 : max / mean)
        .put("requestsPerWorker", new JsonObject(new LinkedHashMap<>(perWorker)))
        .put("failures", new JsonObject(new LinkedHashMap<>(failures)));
  }

  /**
   * Adds what the gateway's metrics say about this model: the router's estimated prefix hit rate (-1 when not
   * available) and its decisions by reason.
   */
  private JsonObject routerMetrics(JsonObject summary) {
    String text;
    try {
      var http = java.net.http.HttpClient.newHttpClient();
      text = http.send(java.net.http.HttpRequest.newBuilder(url.resolve("/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      return summary.put("routerEstimatedHitRate", -1.0);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return summary.put("routerEstimatedHitRate", -1.0);
    }
    String label = "model=\"" + model + "\"";
    double matched = 0;
    double prompt = 0;
    JsonObject reasons = new JsonObject();
    for (String line : text.split("\n")) {
      if (!line.contains(label)) {
        continue;
      }
      double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      if (line.startsWith("switchboard_router_prefix_matched_chars_total{")) {
        matched = value;
      } else if (line.startsWith("switchboard_router_prompt_chars_total{")) {
        prompt = value;
      } else if (line.startsWith("switchboard_router_decisions_total{")) {
        int at = line.indexOf("reason=\"") + 8;
        reasons.put(line.substring(at, line.indexOf('"', at)), (long) value);
      }
    }
    return summary.put("routerEstimatedHitRate", prompt > 0 ? matched / prompt : -1.0).put("decisions", reasons);
  }

  private static double ms(long nanos) {
    return nanos < 0 ? -1 : Math.round(nanos / 1e4) / 100.0;
  }
}
