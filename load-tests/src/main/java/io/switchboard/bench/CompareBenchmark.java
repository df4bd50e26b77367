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
 * latency, and streams whose chunks were lost, repeated or reordered), and the proxy's RSS before and after. The
 * throughput run and the burst are repeated in every round.
 * Each target first gets {@code jit-warmup-seconds} of unmeasured load, so JVMs are measured compiled. The
 * throughput run is repeated {@code throughput-rounds} times (default 5: one slow minute of this VM moved a median of three by a tenth), the targets taking turns; the table
 * shows each target's median, and the last line's throughput ratio is the median of the rounds' ratios.
 * Then the long-stream case, one pass per target: {@code long-streams} concurrent streams of
 * {@code long-stream-chunks} chunks, one token per chunk, each chunk written by the backend on its own
 * ({@link FastOpenAiBackend#PER_TOKEN_MODEL}): chunk delivery throughput (content chunks received per second of
 * the pass), the target's CPU time per relayed chunk, and streams that came back with a chunk lost, repeated or
 * out of order; after {@code long-stream-warmup-passes} unmeasured passes of the same size. {@code --cases
 * long-streams} runs only that case. Loopback targets only. {@code load-tests/bin/compare} starts everything and
 * calls this.
 *
 * <p>{@code --targets name=URL;...} (chat completions URLs; the first is the baseline, normally direct),
 * {@code --pids name=PID+PID;...} (processes whose CPU and memory count for a target),
 * {@code --subject NAME --reference NAME} (the last line compares these two; its
 * {@code stream_cpu_per_chunk_ratio} compares the cheapest per chunk of the targets that are neither the first
 * nor the reference, i.e. the best Switchboard set-up, with the reference).
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
    DEFAULTS.put("cases", "all");
    DEFAULTS.put("long-streams", "200");
    DEFAULTS.put("long-stream-chunks", "2000");
    // Two unmeasured passes of the measured size: after one pass of 20 streams, the node's JIT compiler threads were
    // still 14% of its CPU during the measured pass, and the relay's CPU per chunk measured ~1.8x its compiled cost.
    DEFAULTS.put("long-stream-warmup-passes", "2");
    DEFAULTS.put("long-stream-rounds", "3");
    DEFAULTS.put("long-stream-model", FastOpenAiBackend.PER_TOKEN_MODEL);
    DEFAULTS.put("long-stream-timeout-seconds", "300");
    DEFAULTS.put("two-nodes", "switchboard-2nodes");
    // The planes compared where both carry the request between nodes: on one node the event-bus set-up calls its
    // worker directly, so a one-node comparison sets a gRPC hop against no hop at all (shown too, for information).
    DEFAULTS.put("grpc", "switchboard-grpc-2nodes");
    DEFAULTS.put("grpc-reference", "switchboard-2nodes");
    DEFAULTS.put("grpc-one-node", "switchboard-grpc");
  }

  private static final long CLOCK_TICKS_PER_SECOND = 100;

  /** {@code rpsRounds} and {@code cpuRounds}: one entry per throughput round; the table shows their medians. */
  record Result(String name, double p50Ms, double p99Ms, List<Double> rpsRounds, List<Double> cpuRounds,
                List<Double> streamP50Rounds, int[] streamsLostFailed, long rssBeforeKb, long rssAfterKb) {

    double rps() {
      return median(rpsRounds);
    }

    /** The median over the rounds of the burst's first-chunk p50. */
    double streamP50Ms() {
      return median(streamP50Rounds);
    }

    /** Streams of the bursts, all rounds, that came back with a chunk lost, repeated or out of order. */
    int streamsLost() {
      return streamsLostFailed[0];
    }

    int streamsFailed() {
      return streamsLostFailed[1];
    }

    void addBurst(Streams streams) {
      streamP50Rounds.add(ms(BenchOptions.percentile(streams.firstChunk, 50)));
      streamsLostFailed[0] += streams.lost;
      streamsLostFailed[1] += streams.failed;
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
    if (options.containsKey("help")) {
      System.out.print(BenchOptions.usage("CompareBenchmark: --cases all|long-streams", DEFAULTS));
      return;
    }
    if (!List.of("all", "long-streams", "burst").contains(options.get("cases"))) {
      throw new IllegalArgumentException("--cases must be all, long-streams or burst, got '" + options.get("cases")
          + "'");
    }
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
    if (options.get("cases").equals("long-streams")) {
      printLongStreams(longStreams(targets, pids), targets);
      return;
    }
    if (options.get("cases").equals("burst")) {
      bursts(targets);
      return;
    }
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
        System.err.println("compare: burst round " + round + " of " + rounds + ": " + result.name());
        result.addBurst(burst(targets.get(result.name())));
      }
    }
    Map<String, LongStreams> longStreams = longStreams(targets, pids);
    print(results, longStreams, targets);
  }

  /**
   * {@code --cases burst}: after each target's unmeasured load, {@code throughput-rounds} bursts per target, the
   * targets taking turns; prints each round's first-chunk p50 and the median ratio of the subject to the reference.
   */
  private void bursts(Map<String, URI> targets) throws Exception {
    int jitWarmup = BenchOptions.nonNegativeInt(options, "jit-warmup-seconds");
    Map<String, List<Double>> p50s = new LinkedHashMap<>();
    for (Map.Entry<String, URI> target : targets.entrySet()) {
      if (jitWarmup > 0) {
        System.err.println("compare: unmeasured load: " + target.getKey());
        jitWarmup(target.getValue(), jitWarmup);
      }
      p50s.put(target.getKey(), new ArrayList<>());
    }
    int rounds = BenchOptions.positiveInt(options, "throughput-rounds");
    for (int round = 1; round <= rounds; round++) {
      for (Map.Entry<String, URI> target : targets.entrySet()) {
        Streams streams = burst(target.getValue());
        double p50 = ms(BenchOptions.percentile(streams.firstChunk, 50));
        p50s.get(target.getKey()).add(p50);
        System.out.printf(Locale.ROOT, "burst round %d: %-18s first chunk p50 %8.2f ms, p90 %8.2f ms, lost %d, failed %d%n",
            round, target.getKey(), p50, ms(BenchOptions.percentile(streams.firstChunk, 90)), streams.lost,
            streams.failed);
      }
    }
    List<Double> subject = p50s.get(options.get("subject"));
    List<Double> reference = p50s.get(options.get("reference"));
    System.out.printf(Locale.ROOT, "vs nginx: burst_first_chunk_ratio=%.2f%n", subject == null || reference == null
        ? Double.NaN : median(roundRatios(subject, reference)));
  }

  /** The long-stream case, one target after the other, each after an unmeasured pass. */
  private Map<String, LongStreams> longStreams(Map<String, URI> targets, Map<String, List<Long>> pids)
      throws Exception {
    int count = BenchOptions.positiveInt(options, "long-streams");
    int chunks = BenchOptions.positiveInt(options, "long-stream-chunks");
    int warmupPasses = BenchOptions.nonNegativeInt(options, "long-stream-warmup-passes");
    int rounds = BenchOptions.positiveInt(options, "long-stream-rounds");
    Map<String, List<LongStreams>> passes = new LinkedHashMap<>();
    for (Map.Entry<String, URI> target : targets.entrySet()) {
      List<Long> targetPids = pids.getOrDefault(target.getKey(), List.of());
      for (int pass = 1; pass <= warmupPasses; pass++) {
        System.err.println("compare: long streams, unmeasured pass " + pass + ": " + target.getKey());
        longStreamPass(target.getValue(), targetPids, count, chunks);
      }
      passes.put(target.getKey(), new ArrayList<>());
    }
    // nginx's CPU per chunk is small and moves by half from one pass to the next: rounds, the targets taking turns.
    for (int round = 1; round <= rounds; round++) {
      for (Map.Entry<String, URI> target : targets.entrySet()) {
        System.err.println("compare: long streams, round " + round + " of " + rounds + ": " + target.getKey() + " ("
            + count + " x " + chunks + ")");
        passes.get(target.getKey()).add(longStreamPass(target.getValue(), pids.getOrDefault(target.getKey(),
            List.of()), count, chunks));
      }
    }
    Map<String, LongStreams> out = new LinkedHashMap<>();
    passes.forEach((name, list) -> out.put(name, LongStreams.medianOf(list)));
    return out;
  }


  /**
   * {@code chunksPerSecond}: content chunks received over the pass's wall time; {@code cpuUsPerChunk}: the
   * target's CPU time over the pass divided by the content chunks received (the few finish, usage and
   * {@code [DONE]} events per stream are relayed too, and counted in the CPU but not as chunks).
   */
  record LongStreams(int streams, int chunks, long delivered, double seconds, double chunksPerSecond,
                     double cpuUsPerChunk, int lost, int failed, List<Double> cpuRounds) {

    /** The rounds' medians (chunks, lost and failed summed), with each round's CPU per chunk kept. */
    static LongStreams medianOf(List<LongStreams> rounds) {
      List<Double> cpu = rounds.stream().map(LongStreams::cpuUsPerChunk).toList();
      return new LongStreams(rounds.get(0).streams(), rounds.get(0).chunks(),
          rounds.stream().mapToLong(LongStreams::delivered).sum(),
          median(rounds.stream().map(LongStreams::seconds).toList()),
          median(rounds.stream().map(LongStreams::chunksPerSecond).toList()), median(cpu),
          rounds.stream().mapToInt(LongStreams::lost).sum(), rounds.stream().mapToInt(LongStreams::failed).sum(), cpu);
    }
  }

  private static final String CONTENT = "\"content\":\"";

  /**
   * {@code count} streams at once of {@code chunks} chunks each. The client does not parse the JSON: it takes
   * each data line's non-empty {@code content} and checks it is the next token the backend numbers.
   */
  private LongStreams longStreamPass(URI url, List<Long> pids, int count, int chunks) throws Exception {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(count));
    Buffer body = new JsonObject().put("model", options.get("long-stream-model")).put("max_tokens", chunks)
        .put("stream", true).put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject()
            .put("role", "user").put("content", "stream"))).toBuffer();
    RequestOptions request = requestOptions(url).putHeader("accept", "text/event-stream");
    String[] tokens = new String[chunks];
    for (int i = 0; i < chunks; i++) {
      tokens[i] = FastOpenAiBackend.token(i);
    }
    java.util.concurrent.atomic.AtomicLong delivered = new java.util.concurrent.atomic.AtomicLong();
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<Future<Void>> all = new ArrayList<>();
    long cpuBefore = cpuTicks(pids);
    long begin = System.nanoTime();
    for (int i = 0; i < count; i++) {
      Promise<Void> done = Promise.promise();
      all.add(done.future());
      vertx.runOnContext(v -> client.request(request).compose(r -> r.send(body)).onComplete(sent -> {
        if (sent.failed() || sent.result().statusCode() != 200) {
          failed.incrementAndGet();
          done.tryComplete();
          return;
        }
        int[] next = {0};
        boolean[] wrong = {false};
        SseEvents events = new SseEvents(data -> {
          int at = data.indexOf(CONTENT);
          if (at < 0) {
            return;
          }
          int start = at + CONTENT.length();
          int end = data.indexOf('"', start);
          if (end <= start) {
            return; // an empty content, e.g. the role chunk
          }
          if (next[0] >= chunks || !data.regionMatches(start, tokens[next[0]], 0, tokens[next[0]].length())
              || end - start != tokens[next[0]].length()) {
            wrong[0] = true;
          }
          next[0]++;
        });
        sent.result().handler(events::feed);
        sent.result().endHandler(end -> {
          delivered.addAndGet(next[0]);
          if (wrong[0] || next[0] != chunks) {
            lost.incrementAndGet();
          }
          done.tryComplete();
        });
        sent.result().exceptionHandler(error -> {
          failed.incrementAndGet();
          done.tryComplete();
        });
      }));
    }
    try {
      Future.join(all).await(BenchOptions.positiveInt(options, "long-stream-timeout-seconds"), TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      int unfinished = (int) all.stream().filter(f -> !f.isComplete()).count();
      System.err.println("compare: long streams: " + unfinished + " streams unfinished at the timeout, counted as failed");
      failed.addAndGet(unfinished);
    }
    double seconds = (System.nanoTime() - begin) / 1e9;
    long cpuTicks = cpuTicks(pids) - cpuBefore;
    client.close().await(10, TimeUnit.SECONDS);
    long chunksIn = delivered.get();
    double cpuUs = pids.isEmpty() || chunksIn == 0 ? Double.NaN : cpuTicks * 1e6 / CLOCK_TICKS_PER_SECOND / chunksIn;
    return new LongStreams(count, chunks, chunksIn, seconds, chunksIn / seconds, cpuUs, lost.get(), failed.get(),
        List.of(cpuUs));
  }

  /** The cheapest per chunk of the targets that are neither the first (the baseline) nor the reference. */
  private Map.Entry<String, LongStreams> bestLongStreams(Map<String, LongStreams> longStreams, Map<String, URI> targets) {
    String baseline = targets.keySet().iterator().next();
    return longStreams.entrySet().stream()
        .filter(e -> !e.getKey().equals(baseline) && !e.getKey().equals(options.get("reference")))
        .filter(e -> !Double.isNaN(e.getValue().cpuUsPerChunk()))
        .min(java.util.Comparator.comparingDouble(e -> e.getValue().cpuUsPerChunk())).orElse(null);
  }

  /** {@code stream_cpu_per_chunk_ratio}: the best Switchboard set-up's CPU per chunk over the reference's. */
  private double streamCpuPerChunkRatio(Map<String, LongStreams> longStreams, Map<String, URI> targets) {
    Map.Entry<String, LongStreams> best = bestLongStreams(longStreams, targets);
    LongStreams reference = longStreams.get(options.get("reference"));
    return best == null || reference == null ? Double.NaN
        : median(roundRatios(best.getValue().cpuRounds(), reference.cpuRounds()));
  }

  /** The long-stream table and the line naming the best set-up; not the last line. */
  private void printLongStreamTable(Map<String, LongStreams> longStreams, Map<String, URI> targets) {
    LongStreams any = longStreams.values().iterator().next();
    System.out.printf(Locale.ROOT, "long streams: %d concurrent streams of %d chunks, one token per chunk; medians of "
        + "%d rounds (chunks: all rounds)%n", any.streams(), any.chunks(), any.cpuRounds().size());
    System.out.printf(Locale.ROOT, "%-23s %10s %12s %9s %10s %8s%n", "target", "chunks/s", "cpu_us/chunk",
        "seconds", "chunks", "lost");
    for (Map.Entry<String, LongStreams> e : longStreams.entrySet()) {
      LongStreams l = e.getValue();
      System.out.printf(Locale.ROOT, "%-23s %10.0f %12s %9.2f %10d %8s%n", e.getKey(), l.chunksPerSecond(),
          Double.isNaN(l.cpuUsPerChunk()) ? "-" : String.format(Locale.ROOT, "%.2f", l.cpuUsPerChunk()),
          l.seconds(), l.delivered(), l.lost() + (l.failed() > 0 ? "+" + l.failed() + "f" : ""));
    }
    Map.Entry<String, LongStreams> best = bestLongStreams(longStreams, targets);
    LongStreams reference = longStreams.get(options.get("reference"));
    if (best != null && reference != null) {
      System.out.printf(Locale.ROOT, "long streams, best set-up %s / %s: cpu_us_per_chunk %.2f / %.2f; rounds: %s%n",
          best.getKey(), options.get("reference"), best.getValue().cpuUsPerChunk(), reference.cpuUsPerChunk(),
          String.join(" ", roundRatios(best.getValue().cpuRounds(), reference.cpuRounds()).stream()
              .map(r -> String.format(Locale.ROOT, "%.2f", r)).toList()));
    }
  }

  private void printLongStreams(Map<String, LongStreams> longStreams, Map<String, URI> targets) {
    printLongStreamTable(longStreams, targets);
    System.out.printf(Locale.ROOT, "vs nginx: stream_cpu_per_chunk_ratio=%.2f%n",
        streamCpuPerChunkRatio(longStreams, targets));
  }

  private Result measure(String name, URI url, List<Long> pids) throws Exception {
    long rssBefore = rssKb(pids);
    int warmup = BenchOptions.nonNegativeInt(options, "warmup-seconds");
    // A JVM proxy measured cold would be measured compiling itself: load it first, unmeasured.
    int jitWarmup = BenchOptions.nonNegativeInt(options, "jit-warmup-seconds");
    if (jitWarmup > 0) {
      jitWarmup(url, jitWarmup);
    }
    long[] single = closedLoop(url, 1, warmup, BenchOptions.positiveInt(options, "latency-seconds")).latencies;
    Throughput loaded = throughput(url, pids);
    Streams streams = burst(url);
    long rssAfter = rssKb(pids);
    Result result = new Result(name, ms(BenchOptions.percentile(single, 50)), ms(BenchOptions.percentile(single, 99)),
        new ArrayList<>(List.of(loaded.rps())), new ArrayList<>(List.of(loaded.cpuUsPerRequest())),
        new ArrayList<>(), new int[2], rssBefore, rssAfter);
    result.addBurst(streams);
    return result;
  }

  /** The burst: {@code streams} SSE streams arriving at once. */
  private Streams burst(URI url) throws Exception {
    return streams(url, BenchOptions.positiveInt(options, "streams"), BenchOptions.positiveInt(options, "stream-tokens"));
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
    return closedLoop(url, connections, warmupSeconds, seconds, false);
  }

  /**
   * The unmeasured load before a target is measured: half of it whole answers, half streamed ones, so the streaming
   * path is compiled too before the burst measures it (with whole answers only, the first burst measured the JIT
   * compiling the relay of streams as much as the relay).
   */
  private void jitWarmup(URI url, int seconds) throws Exception {
    int connections = BenchOptions.positiveInt(options, "connections");
    closedLoop(url, connections, 0, (seconds + 1) / 2, false);
    closedLoop(url, connections, 0, seconds / 2, true);
  }

  private Loop closedLoop(URI url, int connections, int warmupSeconds, int seconds, boolean stream) throws Exception {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setTcpNoDelay(true).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(connections));
    JsonObject json = new JsonObject().put("model", options.get("model")).put("max_tokens", 16)
        .put("messages", new io.vertx.core.json.JsonArray().add(new JsonObject().put("role", "user")
            .put("content", "hello")));
    Buffer body = (stream ? json.put("stream", true) : json).toBuffer();
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

  private void print(List<Result> results, Map<String, LongStreams> longStreams, Map<String, URI> targets) {
    Result baseline = results.get(0);
    System.out.printf(Locale.ROOT, "%-23s %9s %9s %10s %10s %10s %10s %10s %11s %11s %8s %15s%n", "target",
        "c1_p50_ms", "c1_p99_ms", "added_p50", "added_p99", "c32_req/s", "cpu_us/req", "cpu_s/10k",
        "sse_1st_p50", "sse_added", "lost", "rss_mb");
    for (Result r : results) {
      boolean isBaseline = r == baseline;
      System.out.printf(Locale.ROOT, "%-23s %9.3f %9.3f %10s %10s %10.0f %10s %10s %11.2f %11s %8s %15s%n", r.name(),
          r.p50Ms(), r.p99Ms(), isBaseline ? "-" : String.format(Locale.ROOT, "%.3f", r.p50Ms() - baseline.p50Ms()),
          isBaseline ? "-" : String.format(Locale.ROOT, "%.3f", r.p99Ms() - baseline.p99Ms()), r.rps(),
          Double.isNaN(r.cpuUsPerRequest()) ? "-" : String.format(Locale.ROOT, "%.0f", r.cpuUsPerRequest()),
          Double.isNaN(r.cpuUsPerRequest()) ? "-" : String.format(Locale.ROOT, "%.2f", r.cpuUsPerRequest() / 100),
          r.streamP50Ms(), isBaseline ? "-" : String.format(Locale.ROOT, "%.2f", r.streamP50Ms() - baseline.streamP50Ms()),
          r.streamsLost() + (r.streamsFailed() > 0 ? "+" + r.streamsFailed() + "f" : ""),
          r.rssBeforeKb() == 0 ? "-" : String.format(Locale.ROOT, "%d->%d", r.rssBeforeKb() / 1024, r.rssAfterKb() / 1024));
    }
    Result subject = byName(results, options.get("subject"));
    Result reference = byName(results, options.get("reference"));
    printLongStreamTable(longStreams, targets);
    if (subject != null && reference != null) {
      List<Double> ratios = roundRatios(subject.rpsRounds(), reference.rpsRounds());
      System.out.printf(Locale.ROOT, "throughput rounds, %s / %s: %s%n", subject.name(), reference.name(),
          String.join(" ", ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f", r)).toList()));
      Result twoNodes = byName(results, options.get("two-nodes"));
      Result grpc = byName(results, options.get("grpc"));
      Result grpcReference = byName(results, options.get("grpc-reference"));
      Result grpcOneNode = byName(results, options.get("grpc-one-node"));
      double twoNodesCpu = twoNodes == null ? Double.NaN : twoNodes.cpuUsPerRequest();
      double twoNodesThroughput = twoNodes == null ? Double.NaN
          : median(roundRatios(twoNodes.rpsRounds(), reference.rpsRounds()));
      double grpcCpuRatio = grpc == null || grpcReference == null ? Double.NaN
          : median(roundRatios(grpc.cpuRounds(), grpcReference.cpuRounds()));
      double burstRatio = median(roundRatios(subject.streamP50Rounds(), reference.streamP50Rounds()));
      double streamRatio = streamCpuPerChunkRatio(longStreams, targets);
      double throughputRatio = median(ratios);
      System.out.println("goals (issue 30; medians of the rounds' ratios, each round's targets measured together):");
      goal("two nodes: CPU per request, both JVMs (us)", twoNodesCpu, "<=", 50);
      goal("two nodes: throughput vs nginx", twoNodesThroughput, ">=", 0.6);
      goal("gRPC plane: CPU per request vs event bus, 2 nodes", grpcCpuRatio, "<=", 1.3);
      if (grpcOneNode != null) {
        System.out.printf(Locale.ROOT, "  %-50s %8.2f   (a hop on loopback against none)%n",
            "  on one node, for information", median(roundRatios(grpcOneNode.cpuRounds(), subject.cpuRounds())));
      }
      goal("1,000 streams at once: first chunk p50 vs nginx", burstRatio, "<=", 1.5);
      // The first round's burst opens the proxies' upstream connections (the throughput runs left 32 open); later
      // rounds, about 70 s apart, find many of them closed idle again.
      System.out.printf(Locale.ROOT, "  %-50s %8.2f   (%.0f vs %.0f ms)%n",
          "  of which the first round", subject.streamP50Rounds().get(0)
              / reference.streamP50Rounds().get(0), subject.streamP50Rounds().get(0), reference.streamP50Rounds().get(0));
      goal("long streams: CPU per relayed chunk vs nginx", streamRatio, "<=", 2);
      goal("one node: throughput vs nginx", throughputRatio, ">=", 0.8);
      System.out.printf(Locale.ROOT, "vs nginx: throughput_ratio=%.2f added_p50_ms=%.3f added_p99_ms=%.3f "
              + "cpu_us_per_req=%.0f two_nodes_cpu_us_per_req=%.0f grpc_cpu_ratio=%.2f burst_first_chunk_ratio=%.2f "
              + "stream_cpu_per_chunk_ratio=%.2f%n", throughputRatio,
          subject.p50Ms() - baseline.p50Ms(), subject.p99Ms() - baseline.p99Ms(), subject.cpuUsPerRequest(),
          twoNodesCpu, grpcCpuRatio, burstRatio, streamRatio);
    }
  }

  private static Result byName(List<Result> results, String name) {
    return results.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
  }

  /** Round by round, {@code over[i] / under[i]}. */
  private static List<Double> roundRatios(List<Double> over, List<Double> under) {
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < Math.min(over.size(), under.size()); i++) {
      ratios.add(over.get(i) / under.get(i));
    }
    return ratios;
  }

  private static void goal(String path, double value, String comparison, double goal) {
    boolean met = comparison.equals("<=") ? value <= goal : value >= goal;
    System.out.printf(Locale.ROOT, "  %-50s %8.2f   goal %s %-6s %s%n", path, value, comparison,
        String.format(Locale.ROOT, "%.4g", goal), Double.isNaN(value) ? "not measured" : met ? "met" : "not met");
  }
}
