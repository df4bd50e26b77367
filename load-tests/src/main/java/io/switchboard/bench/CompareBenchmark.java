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
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Measures the same zero-latency backend reached directly and through each proxy (Switchboard on its request
 * planes, nginx), in one run on this machine, and prints one table and a last line comparing Switchboard with
 * nginx. Per target: latency at concurrency 1 (p50, p99, and what the target adds over direct), throughput at
 * 32 connections with the proxy's CPU time per request (from /proc), 1,000 concurrent SSE streams (first-chunk
 * latency, and streams whose chunks were lost, repeated or reordered), and the proxy's RSS before and after.
 * Each target first gets {@code jit-warmup-seconds} of unmeasured load, so JVMs are measured compiled. The
 * throughput run is repeated {@code throughput-rounds} times (default 5: one slow minute of this VM moved a median of three by a tenth), the targets taking turns; the table
 * shows each target's median, and the last line's throughput ratio is the median of the rounds' ratios.
 * Loopback targets only. {@code load-tests/bin/compare} starts everything and calls this.
 *
 * <p>{@code --targets name=URL;...} (chat completions URLs; the first is the baseline, normally direct),
 * {@code --pids name=PID+PID;...} (processes whose CPU and memory count for a target),
 * {@code --subject NAME --reference NAME} (the last line compares these two).
 */
public final class CompareBenchmark {

  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("targets", "");
    DEFAULTS.put("pids", "");
    DEFAULTS.put("subject", "switchboard");
    DEFAULTS.put("reference", "nginx");
    DEFAULTS.put("latency-seconds", "6");
    DEFAULTS.put("throughput-seconds", "8");
    DEFAULTS.put("throughput-rounds", "5");
    DEFAULTS.put("warmup-seconds", "2");
    // -XX:+PrintCompilation on the node: with 2 cores shared with the load, C2 is still busy 15 s into the
    // load (compiler threads were 35-42% of a node's samples then) and settles after about 30 s.
    DEFAULTS.put("jit-warmup-seconds", "30");
    DEFAULTS.put("connections", "32");
    DEFAULTS.put("streams", "1000");
    DEFAULTS.put("stream-tokens", "20");
    DEFAULTS.put("model", FastOpenAiBackend.MODEL);
  }

  private static final long CLOCK_TICKS_PER_SECOND = 100;

  /** {@code rpsRounds} and {@code cpuRounds}: one entry per throughput round; the table shows their medians. */
  record Result(String name, double p50Ms, double p99Ms, List<Double> rpsRounds, List<Double> cpuRounds,
                double streamP50Ms, int streamsLost, int streamsFailed, long rssBeforeKb, long rssAfterKb) {

    double rps() {
      return median(rpsRounds);
    }

    double cpuUsPerRequest() {
      return median(cpuRounds);
    }
  }

  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).sorted()
        .toArray();
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  private final Vertx vertx = Vertx.vertx();
  private final Map<String, String> options;

  private CompareBenchmark(Map<String, String> options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options = BenchOptions.parse(args, DEFAULTS);
    CompareBenchmark bench = new CompareBenchmark(options);
    try {
      bench.run();
    } finally {
      bench.vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private void run() throws Exception {
    Map<String, URI> targets = new LinkedHashMap<>();
    for (String entry : options.get("targets").split(";")) {
      if (!entry.isBlank()) {
        String[] pair = entry.split("=", 2);
        targets.put(pair[0].trim(), BenchOptions.loopbackUrl(pair[1].trim()));
      }
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("--targets name=URL;... is required");
    }
    Map<String, List<Long>> pids = new LinkedHashMap<>();
    for (String entry : options.get("pids").split(";")) {
      if (!entry.isBlank()) {
        String[] pair = entry.split("=", 2);
        pids.put(pair[0].trim(), Arrays.stream(pair[1].split("\\+")).map(String::trim).map(Long::parseLong).toList());
      }
    }
    List<Result> results = new ArrayList<>();
    for (Map.Entry<String, URI> target : targets.entrySet()) {
      System.err.println("compare: measuring " + target.getKey() + " (" + target.getValue() + ")");
      results.add(measure(target.getKey(), target.getValue(), pids.getOrDefault(target.getKey(), List.of())));
    }
    // This machine's speed drifts by a fifth within minutes: more throughput rounds, the targets taking turns,
    // so each round's ratio compares targets measured close together.
    int rounds = BenchOptions.positiveInt(options, "throughput-rounds");
    for (int round = 2; round <= rounds; round++) {
      for (Result result : results) {
        System.err.println("compare: throughput round " + round + " of " + rounds + ": " + result.name());
        Throughput again = throughput(targets.get(result.name()), pids.getOrDefault(result.name(), List.of()));
        result.rpsRounds().add(again.rps());
        result.cpuRounds().add(again.cpuUsPerRequest());
      }
    }
    print(results);
  }

  private Result measure(String name, URI url, List<Long> pids) throws Exception {
    long rssBefore = rssKb(pids);
    int warmup = BenchOptions.nonNegativeInt(options, "warmup-seconds");
    // A JVM proxy measured cold would be measured compiling itself: load it first, unmeasured.
    int jitWarmup = BenchOptions.nonNegativeInt(options, "jit-warmup-seconds");
    if (jitWarmup > 0) {
      closedLoop(url, BenchOptions.positiveInt(options, "connections"), 0, jitWarmup);
    }
    long[] single = closedLoop(url, 1, warmup, BenchOptions.positiveInt(options, "latency-seconds")).latencies;
    Throughput loaded = throughput(url, pids);
    Streams streams = streams(url, BenchOptions.positiveInt(options, "streams"),
        BenchOptions.positiveInt(options, "stream-tokens"));
    long rssAfter = rssKb(pids);
    return new Result(name, ms(BenchOptions.percentile(single, 50)), ms(BenchOptions.percentile(single, 99)),
        new ArrayList<>(List.of(loaded.rps())), new ArrayList<>(List.of(loaded.cpuUsPerRequest())),
        ms(BenchOptions.percentile(streams.firstChunk, 50)), streams.lost, streams.failed, rssBefore, rssAfter);
  }

  private record Throughput(double rps, double cpuUsPerRequest) {
  }

  /** One closed-loop run at {@code connections}: requests per second, and the target's CPU per request. */
  private Throughput throughput(URI url, List<Long> pids) throws Exception {
    long cpuBefore = cpuTicks(pids);
    Loop loaded = closedLoop(url, BenchOptions.positiveInt(options, "connections"),
        BenchOptions.nonNegativeInt(options, "warmup-seconds"), BenchOptions.positiveInt(options, "throughput-seconds"));
    long cpuTicks = cpuTicks(pids) - cpuBefore;
    // CPU of the whole closed-loop run (warmup included) over the requests it completed in all.
    double cpuUs = pids.isEmpty() || loaded.total == 0 ? Double.NaN
        : cpuTicks * 1e6 / CLOCK_TICKS_PER_SECOND / loaded.total;
    return new Throughput(loaded.latencies.length / loaded.seconds, cpuUs);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private record Loop(long[] latencies, long total, double seconds) {
  }

  /** {@code connections} loops each sending the next request when the last is read; latencies in the window. */
  private Loop closedLoop(URI url, int connections, int warmupSeconds, int seconds) throws Exception {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(connections));
    Buffer body = new JsonObject().put("model", options.get("model")).put("max_tokens", 16)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
            .put("content", "hello"))).toBuffer();
    RequestOptions request = requestOptions(url);
    long start = System.nanoTime();
    long windowStart = start + TimeUnit.SECONDS.toNanos(warmupSeconds);
    long windowEnd = windowStart + TimeUnit.SECONDS.toNanos(seconds);
    List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger total = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      Promise<Void> done = Promise.promise();
      loops.add(done.future());
      vertx.runOnContext(v -> loop(client, request, body, windowStart, windowEnd, latencies, total, failures, done));
    }
    Future.all(loops).await(seconds + warmupSeconds + 60L, TimeUnit.SECONDS);
    client.close().await(10, TimeUnit.SECONDS);
    if (failures.get() > 0) {
      System.err.println("compare: " + failures.get() + " failed requests against " + url);
    }
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    return new Loop(sorted, total.get(), seconds);
  }

  private void loop(HttpClientAgent client, RequestOptions request, Buffer body, long windowStart, long windowEnd,
                    List<Long> latencies, AtomicInteger total, AtomicInteger failures, Promise<Void> done) {
    long begin = System.nanoTime();
    if (begin >= windowEnd) {
      done.complete();
      return;
    }
    client.request(request).compose(r -> r.send(body)).compose(response -> response.body().map(b -> response))
        .onComplete(result -> {
          long end = System.nanoTime();
          if (result.succeeded() && result.result().statusCode() == 200) {
            total.incrementAndGet();
            if (begin >= windowStart && end <= windowEnd) {
              latencies.add(end - begin);
            }
          } else {
            failures.incrementAndGet();
          }
          loop(client, request, body, windowStart, windowEnd, latencies, total, failures, done);
        });
  }

  private record Streams(long[] firstChunk, int lost, int failed) {
  }

  /**
   * {@code count} streams at once, each of {@code tokens} chunks: the time to each one's first chunk, and how
   * many arrived with a chunk missing, repeated or out of order (the backend numbers them).
   */
  private Streams streams(URI url, int count, int tokens) throws Exception {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(count));
    Buffer body = new JsonObject().put("model", options.get("model")).put("max_tokens", tokens).put("stream", true)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
            .put("content", "stream"))).toBuffer();
    StringBuilder expectedText = new StringBuilder();
    for (int i = 0; i < tokens; i++) {
      expectedText.append(FastOpenAiBackend.token(i));
    }
    String expected = expectedText.toString();
    RequestOptions request = requestOptions(url).putHeader("accept", "text/event-stream");
    long[] firstChunk = new long[count];
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> all = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      Promise<Void> done = Promise.promise();
      all.add(done.future());
      long begin = System.nanoTime();
      vertx.runOnContext(v -> client.request(request).compose(r -> r.send(body)).onComplete(sent -> {
        if (sent.failed() || sent.result().statusCode() != 200) {
          failed.incrementAndGet();
          firstChunk[index] = Long.MAX_VALUE;
          done.complete();
          return;
        }
        StringBuilder text = new StringBuilder();
        SseEvents events = new SseEvents(data -> {
          if (!data.equals("[DONE]")) {
            var choices = new JsonObject(data).getJsonArray("choices");
            if (choices != null && !choices.isEmpty()) {
              text.append(choices.getJsonObject(0).getJsonObject("delta", new JsonObject()).getString("content", ""));
            }
          }
        });
        sent.result().handler(buffer -> {
          if (firstChunk[index] == 0) {
            firstChunk[index] = System.nanoTime() - begin;
          }
          events.feed(buffer);
        });
        sent.result().endHandler(end -> {
          if (!text.toString().equals(expected)) {
            lost.incrementAndGet();
          }
          done.complete();
        });
        sent.result().exceptionHandler(error -> {
          failed.incrementAndGet();
          done.tryComplete();
        });
      }));
    }
    Future.join(all).await(120, TimeUnit.SECONDS);
    client.close().await(10, TimeUnit.SECONDS);
    long[] sorted = Arrays.stream(firstChunk).filter(n -> n != Long.MAX_VALUE && n > 0).sorted().toArray();
    return new Streams(sorted.length == 0 ? new long[] {0} : sorted, lost.get(), failed.get());
  }

  private static RequestOptions requestOptions(URI url) {
    return new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost()).setPort(url.getPort())
        .setURI(url.getRawPath()).setIdleTimeout(60_000).putHeader("content-type", "application/json");
  }

  /** CPU time (user + system) of the processes so far, in clock ticks; a process that ended adds nothing more. */
  static long cpuTicks(List<Long> pids) {
    long ticks = 0;
    for (long pid : pids) {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      } catch (IOException | RuntimeException gone) {
        // the process ended: it adds nothing more
      }
    }
    return ticks;
  }

  private static long rssKb(List<Long> pids) {
    long kb = 0;
    for (long pid : pids) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
          if (line.startsWith("VmRSS:")) {
            kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
          }
        }
      } catch (IOException | RuntimeException gone) {
        // ended
      }
    }
    return kb;
  }

  private void print(List<Result> results) {
    Result baseline = results.get(0);
    System.out.printf(Locale.ROOT, "%-16s %9s %9s %10s %10s %10s %10s %10s %11s %11s %8s %15s%n", "target",
        "c1_p50_ms", "c1_p99_ms", "added_p50", "added_p99", "c32_req/s", "cpu_us/req", "cpu_s/10k",
        "sse_1st_p50", "sse_added", "lost", "rss_mb");
    for (Result r : results) {
      boolean isBaseline = r == baseline;
      System.out.printf(Locale.ROOT, "%-16s %9.3f %9.3f %10s %10s %10.0f %10s %10s %11.2f %11s %8s %15s%n", r.name(),
          r.p50Ms(), r.p99Ms(), isBaseline ? "-" : String.format(Locale.ROOT, "%.3f", r.p50Ms() - baseline.p50Ms()),
          isBaseline ? "-" : String.format(Locale.ROOT, "%.3f", r.p99Ms() - baseline.p99Ms()), r.rps(),
          Double.isNaN(r.cpuUsPerRequest()) ? "-" : String.format(Locale.ROOT, "%.0f", r.cpuUsPerRequest()),
          Double.isNaN(r.cpuUsPerRequest()) ? "-" : String.format(Locale.ROOT, "%.2f", r.cpuUsPerRequest() / 100),
          r.streamP50Ms(), isBaseline ? "-" : String.format(Locale.ROOT, "%.2f", r.streamP50Ms() - baseline.streamP50Ms()),
          r.streamsLost() + (r.streamsFailed() > 0 ? "+" + r.streamsFailed() + "f" : ""),
          r.rssBeforeKb() == 0 ? "-" : String.format(Locale.ROOT, "%d->%d", r.rssBeforeKb() / 1024, r.rssAfterKb() / 1024));
    }
    Result subject = results.stream().filter(r -> r.name().equals(options.get("subject"))).findFirst().orElse(null);
    Result reference = results.stream().filter(r -> r.name().equals(options.get("reference"))).findFirst().orElse(null);
    if (subject != null && reference != null) {
      List<Double> ratios = new ArrayList<>();
      for (int i = 0; i < subject.rpsRounds().size(); i++) {
        ratios.add(subject.rpsRounds().get(i) / reference.rpsRounds().get(i));
      }
      System.out.printf(Locale.ROOT, "throughput rounds, %s / %s: %s%n", subject.name(), reference.name(),
          String.join(" ", ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f", r)).toList()));
      System.out.printf(Locale.ROOT, "vs nginx: throughput_ratio=%.2f added_p50_ms=%.3f added_p99_ms=%.3f "
              + "cpu_us_per_req=%.0f%n", median(ratios), subject.p50Ms() - baseline.p50Ms(),
          subject.p99Ms() - baseline.p99Ms(), subject.cpuUsPerRequest());
    }
  }
}
