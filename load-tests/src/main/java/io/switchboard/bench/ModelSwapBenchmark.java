package io.switchboard.bench;

import io.switchboard.worker.llamacpp.TinyLlamaModel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Models swapping in and out of one llamacpp worker over a model directory: more models than {@code modelsMax}
 * (load-tests/bin/model-swap-bench runs four tiny GGUFs at modelsMax 2), and {@code --clients} closed-loop clients
 * that each visit the models in a seeded random order (never the same model twice in a row), sending
 * {@code --burst} chat completions to a model per visit, every other one streamed. The node's own JSON log
 * ({@code --node-log}) says when each model began loading and when it was loaded, and which were unloaded for
 * room: a request whose lifetime overlaps a load of its model waited for that load (it is cold), any other is warm.
 * Prints the cold requests' latency and the time a load added to them (their latency less the warm median of the
 * same kind, whole or streamed; median and p90), the warm latency, the loads and unloads the node logged, and every
 * request lost (not 200, an error event, a stream without [DONE] or a finish reason, an answer from another model),
 * then last {@code model-swap: cold_added_ms=X warm_ms=Y swaps=Z lost=N} (X the median added, Y the warm median,
 * Z the unloads made for room: each is one model swapped out for another). Exits 1 when a request was lost.
 *
 * <p>{@code --write-models DIR --vocabs VOCAB_DIR} instead writes the four tiny GGUFs into DIR (kept when present)
 * from llama.cpp's vocab-only files, and exits.
 */
public final class ModelSwapBenchmark {

  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("url", "http://127.0.0.1:18110");
    DEFAULTS.put("node-log", "");
    DEFAULTS.put("clients", "3");
    DEFAULTS.put("visits", "24");
    DEFAULTS.put("burst", "3");
    DEFAULTS.put("max-tokens", "8");
    DEFAULTS.put("seed", "29");
    DEFAULTS.put("timeout-seconds", "300");
    DEFAULTS.put("write-models", "");
    DEFAULTS.put("vocabs", "");
  }

  /** name, llama.cpp vocab file, seed: four vocabularies (32000, 50257, 32064, 151936 tokens), 17 to 84 MB. */
  static final List<String[]> MODELS = List.of(
      new String[] {"tiny-spm", "ggml-vocab-llama-spm.gguf", "11"},
      new String[] {"tiny-gpt2", "ggml-vocab-gpt-2.gguf", "12"},
      new String[] {"tiny-phi3", "ggml-vocab-phi-3.gguf", "13"},
      new String[] {"tiny-qwen2", "ggml-vocab-qwen2.gguf", "14"});

  /** One request: what was asked, when (wall clock, to match the node's log), how it ended. */
  private static final class Result {
    final String model;
    final boolean stream;
    long sentWallMs;
    long doneWallMs;
    long latencyNanos;
    String failure;

    Result(String model, boolean stream) {
      this.model = model;
      this.stream = stream;
    }
  }

  /** A load the node logged: from "loading model" to "model loaded" (or "model failed to load"). */
  private static final class Load {
    final String model;
    final long startMs;
    long endMs = Long.MAX_VALUE;
    long loadMs = -1;
    boolean failed;

    Load(String model, long startMs) {
      this.model = model;
      this.startMs = startMs;
    }
  }

  private final Vertx vertx = Vertx.vertx();
  private final Map<String, String> options;
  private final URI url;
  private final HttpClientAgent client;
  private final int maxTokens;
  /** Set when the run's time is up: no client sends another request. */
  private volatile boolean stopped;

  private ModelSwapBenchmark(Map<String, String> options) {
    this.options = options;
    this.url = BenchOptions.loopbackUrl(options.get("url") + "/v1/chat/completions");
    this.maxTokens = BenchOptions.positiveInt(options, "max-tokens");
    int clients = BenchOptions.positiveInt(options, "clients");
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(clients + 2));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options;
    try {
      options = BenchOptions.parse(args, DEFAULTS);
      if (options.containsKey("help")) {
        System.out.println(BenchOptions.usage("usage: java -cp load-tests/target/switchboard-bench.jar "
            + "io.switchboard.bench.ModelSwapBenchmark [options]", DEFAULTS));
        return;
      }
      if (!options.get("write-models").isEmpty()) {
        writeModels(Path.of(options.get("write-models")), Path.of(options.get("vocabs")));
        return;
      }
      if (options.get("node-log").isEmpty()) {
        throw new IllegalArgumentException("--node-log FILE is needed: the node's log says which requests waited "
            + "for a load");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("model-swap: " + e.getMessage());
      System.exit(2);
      return;
    }
    ModelSwapBenchmark bench = new ModelSwapBenchmark(options);
    int lost;
    try {
      lost = bench.run();
    } finally {
      bench.client.close().await(10, TimeUnit.SECONDS);
      bench.vertx.close().await(10, TimeUnit.SECONDS);
    }
    System.exit(lost == 0 ? 0 : 1);
  }

  /** Writes each tiny model once (through a temporary file, so a cut run leaves no half model behind). */
  static void writeModels(Path dir, Path vocabs) throws IOException {
    Files.createDirectories(dir);
    for (String[] model : MODELS) {
      Path file = dir.resolve(model[0] + ".gguf");
      if (Files.exists(file)) {
        continue;
      }
      Path partial = dir.resolve(model[0] + ".gguf.partial");
      TinyLlamaModel.write(vocabs.resolve(model[1]), partial, Long.parseLong(model[2]));
      Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      System.out.printf(Locale.ROOT, "model-swap: wrote %s (%.1f MB, vocabulary of %s)%n", file,
          Files.size(file) / 1e6, model[1]);
    }
  }

  private int run() throws Exception {
    int clients = BenchOptions.positiveInt(options, "clients");
    int visits = BenchOptions.positiveInt(options, "visits");
    int burst = BenchOptions.positiveInt(options, "burst");
    long seed = Long.parseLong(options.get("seed"));
    int timeoutSeconds = BenchOptions.positiveInt(options, "timeout-seconds");

    JsonObject worker = modelsWorker();
    JsonObject engine = worker.getJsonObject("engineStatus");
    List<String> models = new ArrayList<>();
    Map<String, Long> sizes = new TreeMap<>();
    for (Object entry : engine.getJsonArray("models")) {
      JsonObject model = (JsonObject) entry;
      models.add(model.getString("name"));
      sizes.put(model.getString("name"), model.getLong("sizeBytes"));
    }
    int modelsMax = engine.getInteger("modelsMax");
    if (models.size() <= modelsMax) {
      throw new IllegalStateException("the worker serves " + models.size() + " models and may load " + modelsMax
          + ": nothing would swap");
    }
    StringBuilder sized = new StringBuilder();
    sizes.forEach((name, bytes) -> sized.append(String.format(Locale.ROOT, " %s (%.0f MB)", name, bytes / 1e6)));
    System.out.printf(Locale.ROOT, "model-swap: worker %s, %d models:%s; modelsMax %d; %d clients x %d visits x "
            + "%d requests, %d tokens each, every other one streamed%n", worker.getString("workerId"),
        models.size(), sized, modelsMax, clients, visits, burst, maxTokens);

    List<Result> results = Collections.synchronizedList(new ArrayList<>());
    long started = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Random random = new Random(seed + c);
      List<String> plan = new ArrayList<>();
      String previous = null;
      for (int v = 0; v < visits; v++) {
        String next;
        do {
          next = models.get(random.nextInt(models.size()));
        } while (next.equals(previous));
        previous = next;
        for (int b = 0; b < burst; b++) {
          plan.add(next);
        }
      }
      int offset = c;
      loops.add(Future.<Void>future(p -> vertx.runOnContext(x -> sendAll(plan, 0, offset, results, p))));
    }
    try {
      Future.all(loops).toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException late) {
      stopped = true;
      System.out.printf("model-swap: the run did not end within %d s (--timeout-seconds); requests without an "
          + "answer by then count as lost%n", timeoutSeconds);
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    // The node's log is written asynchronously: give the last lines a moment.
    Thread.sleep(500);
    return report(results, readLog(Path.of(options.get("node-log"))), seconds);
  }

  /** The one llamacpp worker over a model directory, as /admin/cluster shows it. */
  private JsonObject modelsWorker() throws Exception {
    Buffer body = client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(url.getHost())
            .setPort(url.getPort()).setURI("/admin/cluster"))
        .compose(req -> req.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (Object entry : new JsonObject(body).getJsonArray("workers")) {
      JsonObject worker = (JsonObject) entry;
      JsonObject engine = worker.getJsonObject("engineStatus");
      if (engine != null && engine.containsKey("modelsDir")) {
        return worker;
      }
    }
    throw new IllegalStateException("/admin/cluster lists no worker over a model directory");
  }

  /** Sends the client's plan one request after another (a closed loop). */
  private void sendAll(List<String> plan, int index, int client, List<Result> results, Promise<Void> done) {
    if (index == plan.size() || stopped) {
      done.complete();
      return;
    }
    Result result = new Result(plan.get(index), (index + client) % 2 == 0);
    results.add(result);
    send(result).onComplete(v -> sendAll(plan, index + 1, client, results, done));
  }

  private Future<Void> send(Result result) {
    Buffer body = new JsonObject().put("model", result.model).put("max_tokens", maxTokens).put("temperature", 0)
        .put("stream", result.stream)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello there")))
        .toBuffer();
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost())
        .setPort(url.getPort()).setURI(url.getRawPath()).putHeader("content-type", "application/json")
        .setIdleTimeout(120_000);
    result.sentWallMs = System.currentTimeMillis();
    long sent = System.nanoTime();
    return client.request(request)
        .compose(req -> req.send(body))
        .compose(response -> response.statusCode() != 200
            ? response.body().compose(text -> Future.<String>failedFuture("HTTP " + response.statusCode() + ": "
                + text.toString().substring(0, Math.min(200, text.length()))))
            : result.stream ? readStream(response, result.model) : response.body().map(b -> checkWhole(b,
                result.model)))
        .transform(outcome -> {
          result.latencyNanos = System.nanoTime() - sent;
          result.doneWallMs = System.currentTimeMillis();
          String problem = outcome.failed() ? String.valueOf(outcome.cause().getMessage()) : outcome.result();
          if (problem != null) {
            result.failure = problem;
            System.out.printf("model-swap: LOST %s request for %s: %s%n", result.stream ? "streamed" : "whole",
                result.model, problem);
          }
          return Future.<Void>succeededFuture();
        });
  }

  /** Null when the answer is whole and from the model asked; else what is wrong with it. */
  private static String checkWhole(Buffer body, String model) {
    JsonObject answer = new JsonObject(body);
    if (!model.equals(answer.getString("model"))) {
      return "answered by model " + answer.getString("model");
    }
    JsonObject choice = answer.getJsonArray("choices").getJsonObject(0);
    return choice.getString("finish_reason") == null ? "no finish_reason" : null;
  }

  /** Reads an SSE answer to its end; null when it ended with a finish reason and [DONE], from the model asked. */
  private Future<String> readStream(HttpClientResponse response, String model) {
    String[] problem = {null};
    boolean[] finished = {false};
    boolean[] done = {false};
    SseEvents events = new SseEvents(data -> {
      if (data.equals("[DONE]")) {
        done[0] = true;
        return;
      }
      JsonObject event = new JsonObject(data);
      if (event.containsKey("error")) {
        problem[0] = "error event: " + event.getJsonObject("error").getString("message");
        return;
      }
      if (!model.equals(event.getString("model")) && problem[0] == null) {
        problem[0] = "chunk from model " + event.getString("model");
      }
      JsonArray choices = event.getJsonArray("choices");
      if (choices != null && !choices.isEmpty() && choices.getJsonObject(0).getString("finish_reason") != null) {
        finished[0] = true;
      }
    });
    response.handler(events::feed);
    return response.end().map(v -> problem[0] != null ? problem[0]
        : !done[0] ? "stream cut: no [DONE]" : !finished[0] ? "stream ended without a finish_reason" : null);
  }

  /** Loads and unloads from the node's JSON log lines. */
  private record NodeLog(List<Load> loads, List<String> unloadReasons) {
  }

  private static NodeLog readLog(Path file) throws IOException {
    List<Load> loads = new ArrayList<>();
    Map<String, Load> open = new LinkedHashMap<>();
    List<String> unloads = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.startsWith("{") || !line.contains("LlamaCppLibraryEngine")) {
        continue;
      }
      JsonObject event = new JsonObject(line);
      String message = event.getString("message");
      String model = event.getString("model");
      long at = Instant.parse(event.getString("@timestamp")).toEpochMilli();
      switch (message == null ? "" : message) {
        case "loading model" -> {
          Load load = new Load(model, at);
          loads.add(load);
          open.put(model, load);
        }
        case "model loaded", "model failed to load" -> {
          Load load = open.remove(model);
          if (load != null) {
            load.endMs = at;
            load.loadMs = event.getLong("loadMs", -1L);
            load.failed = message.equals("model failed to load");
          }
        }
        case "model unloaded" -> unloads.add(event.getString("reason", ""));
        default -> {
        }
      }
    }
    return new NodeLog(loads, unloads);
  }

  private static boolean waitedForLoad(Result result, List<Load> loads) {
    for (Load load : loads) {
      if (load.model.equals(result.model) && load.startMs <= result.doneWallMs && load.endMs >= result.sentWallMs) {
        return true;
      }
    }
    return false;
  }

  private int report(List<Result> results, NodeLog log, double seconds) {
    List<Result> snapshot;
    synchronized (results) {
      snapshot = new ArrayList<>(results);
    }
    snapshot.stream().filter(r -> r.doneWallMs == 0).forEach(r -> r.failure = "no answer within --timeout-seconds");
    results = snapshot;
    List<Result> lostOnes = results.stream().filter(r -> r.failure != null).toList();
    List<Result> ok = results.stream().filter(r -> r.failure == null).toList();
    List<Result> cold = ok.stream().filter(r -> waitedForLoad(r, log.loads())).toList();
    List<Result> warm = ok.stream().filter(r -> !waitedForLoad(r, log.loads())).toList();
    long warmWhole = median(warm.stream().filter(r -> !r.stream).toList());
    long warmStream = median(warm.stream().filter(r -> r.stream).toList());
    long warmAll = median(warm);
    long[] added = cold.stream().mapToLong(r -> r.latencyNanos - (r.stream ? warmStream : warmWhole)).sorted()
        .toArray();
    long[] loadMs = log.loads().stream().filter(l -> !l.failed && l.loadMs >= 0).mapToLong(l -> l.loadMs).sorted()
        .toArray();
    long forRoom = log.unloadReasons().stream().filter(r -> r.startsWith("to make room")).count();
    long failedLoads = log.loads().stream().filter(l -> l.failed).count();

    System.out.printf(Locale.ROOT, "model-swap: %d requests in %.1f s: %d answered whole, %d lost%n",
        results.size(), seconds, ok.size(), lostOnes.size());
    Map<String, Integer> reasons = new TreeMap<>();
    lostOnes.forEach(r -> reasons.merge(r.failure, 1, Integer::sum));
    if (!reasons.isEmpty()) {
      System.out.println("model-swap: lost, by cause: " + reasons);
    }
    System.out.printf(Locale.ROOT, "model-swap: warm (no load of its model during it): %d requests, latency median "
            + "%.1f ms, p90 %.1f ms (whole %.1f ms, streamed %.1f ms)%n", warm.size(), warmAll / 1e6,
        percentile(warm, 90) / 1e6, warmWhole / 1e6, warmStream / 1e6);
    System.out.printf(Locale.ROOT, "model-swap: cold (waited for a load of its model): %d requests, latency median "
            + "%.1f ms, p90 %.1f ms; added by the load (less the warm median of its kind): median %.1f ms, p90 "
            + "%.1f ms%n", cold.size(), median(cold) / 1e6, percentile(cold, 90) / 1e6,
        BenchOptions.percentile(added, 50) / 1e6, BenchOptions.percentile(added, 90) / 1e6);
    Map<String, List<Result>> coldByModel = new TreeMap<>();
    cold.forEach(r -> coldByModel.computeIfAbsent(r.model, m -> new ArrayList<>()).add(r));
    StringBuilder perModel = new StringBuilder();
    coldByModel.forEach((model, list) -> perModel.append(String.format(Locale.ROOT, " %s %.1f ms (%d);", model,
        median(list) / 1e6, list.size())));
    System.out.println("model-swap: cold latency median by model (requests):" + perModel);
    System.out.printf(Locale.ROOT, "model-swap: the node logged %d loads (%d failed; load to /health median %d ms, "
            + "p90 %d ms) and %d unloads (%d to make room, %d other)%n", log.loads().size(), failedLoads,
        BenchOptions.percentile(loadMs, 50), BenchOptions.percentile(loadMs, 90), log.unloadReasons().size(),
        forRoom, log.unloadReasons().size() - forRoom);
    System.out.printf(Locale.ROOT, "model-swap: cold_added_ms=%d warm_ms=%.1f swaps=%d lost=%d%n",
        Math.round(BenchOptions.percentile(added, 50) / 1e6), warmAll / 1e6, forRoom, lostOnes.size());
    return lostOnes.size();
  }

  private static long median(List<Result> results) {
    return percentile(results, 50);
  }

  private static long percentile(List<Result> results, double p) {
    return BenchOptions.percentile(results.stream().mapToLong(r -> r.latencyNanos).sorted().toArray(), p);
  }
}
