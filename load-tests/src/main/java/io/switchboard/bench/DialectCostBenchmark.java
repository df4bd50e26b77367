package io.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a request costs the gateway node in each API dialect: the same question as an OpenAI chat completion, an
 * OpenAI Responses request and an Anthropic Messages request, whole and streamed, against one node in front of the
 * zero-latency backend. Closed loops at {@code --connections}, the dialects taking turns for {@code --rounds} rounds;
 * the node's CPU time per request from /proc. Prints a table and, last,
 * {@code dialects: chat_cpu_us=X responses_ratio=Y messages_ratio=Z stream_chat_cpu_us=... stream_responses_ratio=...
 * stream_messages_ratio=...} (ratios: the median of the rounds' ratios to chat).
 *
 * <p>Options: {@code --url http://127.0.0.1:PORT/v1} (the node; its host and port), {@code --pid PID} (the node's process),
 * {@code --model}, {@code --connections} (32), {@code --seconds} (6 per round and dialect), {@code --rounds} (5),
 * {@code --warmup-seconds} (20, every dialect before measuring), {@code --stream-tokens} (16), {@code --only}
 * (a comma-separated list such as {@code responses-stream}: only those, no summary line; for a profile of one).
 */
public final class DialectCostBenchmark {

  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("url", "http://127.0.0.1:18081/v1");
    DEFAULTS.put("pid", "0");
    DEFAULTS.put("model", FastOpenAiBackend.MODEL);
    DEFAULTS.put("connections", "32");
    DEFAULTS.put("seconds", "6");
    DEFAULTS.put("rounds", "5");
    DEFAULTS.put("warmup-seconds", "20");
    DEFAULTS.put("stream-tokens", "16");
    DEFAULTS.put("only", "");
  }

  private static final long CLOCK_TICKS_PER_SECOND = 100;
  private static final List<String> DIALECTS = List.of("chat", "responses", "messages");

  private final Vertx vertx = Vertx.vertx();
  private final Map<String, String> options;

  private DialectCostBenchmark(Map<String, String> options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    DialectCostBenchmark bench = new DialectCostBenchmark(BenchOptions.parse(args, DEFAULTS));
    try {
      bench.run();
    } finally {
      bench.vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The path and body of one request in a dialect: the same question and answer length in each. */
  record Shape(String path, Buffer body) {
  }

  static Shape shape(String dialect, String model, int tokens, boolean stream) {
    JsonObject user = new JsonObject().put("role", "user").put("content", "hello");
    return switch (dialect) {
      case "chat" -> new Shape("/v1/chat/completions", new JsonObject().put("model", model).put("max_tokens", tokens)
          .put("stream", stream).put("messages", new JsonArray().add(user)).toBuffer());
      case "responses" -> new Shape("/v1/responses", new JsonObject().put("model", model)
          .put("max_output_tokens", tokens).put("stream", stream).put("store", false).put("input", "hello").toBuffer());
      case "messages" -> new Shape("/v1/messages", new JsonObject().put("model", model).put("max_tokens", tokens)
          .put("stream", stream).put("messages", new JsonArray().add(user)).toBuffer());
      default -> throw new IllegalArgumentException("unknown dialect " + dialect);
    };
  }

  private void run() throws Exception {
    URI url = BenchOptions.loopbackUrl(options.get("url"));
    long pid = Long.parseLong(options.get("pid"));
    int tokens = BenchOptions.positiveInt(options, "stream-tokens");
    int rounds = BenchOptions.positiveInt(options, "rounds");
    int seconds = BenchOptions.positiveInt(options, "seconds");
    int connections = BenchOptions.positiveInt(options, "connections");
    Map<String, List<Double>> cpu = new LinkedHashMap<>();
    Map<String, List<Double>> rps = new LinkedHashMap<>();
    List<String> only = options.get("only").isBlank() ? List.of() : List.of(options.get("only").split(","));
    for (boolean stream : new boolean[] {false, true}) {
      for (String dialect : DIALECTS) {
        if (!only.isEmpty() && !only.contains(name(dialect, stream))) {
          continue;
        }
        Shape shape = shape(dialect, options.get("model"), tokens, stream);
        int warmup = BenchOptions.nonNegativeInt(options, "warmup-seconds");
        System.err.println("dialect-cost: warming up " + name(dialect, stream) + " for " + warmup + " s");
        Loop check = closedLoop(url, shape, connections, warmup);
        if (check.completed == 0) {
          throw new IllegalStateException(name(dialect, stream) + ": no request answered 200 at " + url + shape.path()
              + " (" + check.failed + " failed)");
        }
      }
    }
    for (int round = 1; round <= rounds; round++) {
      for (boolean stream : new boolean[] {false, true}) {
        for (String dialect : DIALECTS) {
          String name = name(dialect, stream);
          if (!only.isEmpty() && !only.contains(name)) {
            continue;
          }
          System.err.println("dialect-cost: round " + round + " of " + rounds + ": " + name);
          long before = CompareBenchmark.cpuTicks(List.of(pid));
          Loop loop = closedLoop(url, shape(dialect, options.get("model"), tokens, stream), connections, seconds);
          long ticks = CompareBenchmark.cpuTicks(List.of(pid)) - before;
          cpu.computeIfAbsent(name, k -> new ArrayList<>()).add(loop.completed == 0 ? Double.NaN
              : ticks * 1e6 / CLOCK_TICKS_PER_SECOND / loop.completed);
          rps.computeIfAbsent(name, k -> new ArrayList<>()).add(loop.completed / (double) seconds);
          if (loop.failed > 0) {
            System.err.println("dialect-cost: " + loop.failed + " failed requests in " + name);
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "%-20s %12s %14s%n", "dialect", "req/s", "cpu_us/req");
    for (String name : cpu.keySet()) {
      System.out.printf(Locale.ROOT, "%-20s %12.0f %14.1f%n", name, CompareBenchmark.median(rps.get(name)),
          CompareBenchmark.median(cpu.get(name)));
    }
    if (!only.isEmpty()) {
      return;
    }
    System.out.printf(Locale.ROOT, "dialects: chat_cpu_us=%.1f responses_ratio=%.2f messages_ratio=%.2f "
            + "stream_chat_cpu_us=%.1f stream_responses_ratio=%.2f stream_messages_ratio=%.2f%n",
        CompareBenchmark.median(cpu.get("chat")), ratio(cpu, "responses", "chat"), ratio(cpu, "messages", "chat"),
        CompareBenchmark.median(cpu.get("chat-stream")), ratio(cpu, "responses-stream", "chat-stream"),
        ratio(cpu, "messages-stream", "chat-stream"));
  }

  private static String name(String dialect, boolean stream) {
    return stream ? dialect + "-stream" : dialect;
  }

  /** The median over rounds of each round's ratio, so a round's drift affects both sides alike. */
  private static double ratio(Map<String, List<Double>> cpu, String subject, String reference) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < cpu.get(subject).size(); i++) {
      ratios.add(cpu.get(subject).get(i) / cpu.get(reference).get(i));
    }
    return CompareBenchmark.median(ratios);
  }

  private record Loop(int completed, int failed) {
  }

  private Loop closedLoop(URI url, Shape shape, int connections, int seconds) throws Exception {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(connections));
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost())
        .setPort(url.getPort()).setURI(shape.path()).putHeader("content-type", "application/json")
        .putHeader("anthropic-version", "2023-06-01");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      Promise<Void> done = Promise.promise();
      loops.add(done.future());
      vertx.runOnContext(v -> loop(client, request, shape.body(), end, completed, failed, done));
    }
    Future.all(loops).await(seconds + 60L, TimeUnit.SECONDS);
    client.close().await(10, TimeUnit.SECONDS);
    return new Loop(completed.get(), failed.get());
  }

  private void loop(HttpClientAgent client, RequestOptions request, Buffer body, long end, AtomicInteger completed,
                    AtomicInteger failed, Promise<Void> done) {
    if (System.nanoTime() >= end) {
      done.complete();
      return;
    }
    client.request(request).compose(r -> r.send(body)).compose(response -> response.body().map(b -> response))
        .onComplete(result -> {
          if (result.succeeded() && result.result().statusCode() == 200) {
            completed.incrementAndGet();
          } else {
            failed.incrementAndGet();
          }
          loop(client, request, body, end, completed, failed, done);
        });
  }
}
