package io.switchboard.bench;

import io.vertx.core.Context;
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

import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;


import static io.switchboard.bench.BenchOptions.percentile;
/**
 * A closed-loop load generator for {@code POST /v1/chat/completions}: {@code connections} loops, each sending
 * one chat request and, when its response has been read to the end, the next. Requests that start during the
 * warmup are not measured; those that start in the measured window are, until the window closes. Then the
 * loops stop, the requests in flight finish, and one summary is printed. Nothing is asserted.
 *
 * <p>Only loopback targets are accepted: this is a tool for measuring a node on this machine, not for sending
 * load to other hosts.
 *
 * <p>Usage: {@code java -jar load-tests/target/switchboard-bench.jar [--url U] [--connections N]
 * [--duration-seconds S] [--warmup-seconds S] [--model M] [--max-tokens N] [--stream true|false]}; each option
 * can also be given as a system property ({@code -Dbench.connections=64}).
 */
public final class ChatLoadBenchmark {

  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("url", "http://127.0.0.1:8080/v1/chat/completions");
    DEFAULTS.put("connections", "32");
    DEFAULTS.put("duration-seconds", "20");
    DEFAULTS.put("warmup-seconds", "5");
    DEFAULTS.put("model", "mock-llm");
    DEFAULTS.put("max-tokens", "16");
    DEFAULTS.put("stream", "false");
  }

  /** How long requests still in flight when the window closes may take to finish. */
  private static final long DRAIN_GRACE_MS = 30_000;
  /** One request's limit; a request that hangs is counted as an error, it does not stall the loop forever. */
  private static final long REQUEST_TIMEOUT_MS = 30_000;

  private final URI url;
  private final int connections;
  private final long warmupNanos;
  private final long durationNanos;
  private final boolean stream;
  private final Buffer body;

  // Touched only on the benchmark's one Vert.x context: no synchronisation needed.
  private long[] latencies = new long[1 << 20];
  private int measured;
  // Streaming only: time from sending the request to the first complete data event (the first-chunk latency).
  private long[] firstChunks = new long[1 << 16];
  private int firstChunkCount;
  private long chunks;
  private long bytes;
  private long nonOk;
  private long errors;
  private long warmupRequests;
  private final Map<Integer, Long> statusCounts = new TreeMap<>();
  private final Map<String, Long> errorCounts = new TreeMap<>();
  private String firstNonOkBody;
  private long startNanos;
  private long windowStartNanos;
  private long windowEndNanos;
  private long lastMeasuredEndNanos;
  private int inFlight;
  private final CountDownLatch finished = new CountDownLatch(1);

  ChatLoadBenchmark(URI url, int connections, long warmupSeconds, long durationSeconds, String model,
                    int maxTokens, boolean stream) {
    this.url = url;
    this.connections = connections;
    this.warmupNanos = TimeUnit.SECONDS.toNanos(warmupSeconds);
    this.durationNanos = TimeUnit.SECONDS.toNanos(durationSeconds);
    this.stream = stream;
    JsonObject request = new JsonObject()
        .put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hello")))
        .put("max_tokens", maxTokens);
    if (stream) {
      request.put("stream", true);
    }
    this.body = request.toBuffer();
  }

  public static void main(String[] args) {
    Map<String, String> options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("chat-bench: " + e.getMessage());
      System.err.println(usage());
      System.exit(2);
      return;
    }
    if (options.containsKey("help")) {
      System.out.println(usage());
      return;
    }
    ChatLoadBenchmark bench;
    try {
      URI url = BenchOptions.loopbackUrl(options.get("url"));
      int connections = BenchOptions.positiveInt(options, "connections");
      long duration = BenchOptions.positiveInt(options, "duration-seconds");
      long warmup = BenchOptions.nonNegativeInt(options, "warmup-seconds");
      int maxTokens = BenchOptions.positiveInt(options, "max-tokens");
      String streamText = options.get("stream").trim().toLowerCase(Locale.ROOT);
      if (!streamText.equals("true") && !streamText.equals("false")) {
        throw new IllegalArgumentException("--stream must be true or false, got '" + options.get("stream") + "'");
      }
      bench = new ChatLoadBenchmark(url, connections, warmup, duration, options.get("model"), maxTokens,
          Boolean.parseBoolean(streamText));
    } catch (IllegalArgumentException e) {
      System.err.println("chat-bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(bench.run());
  }

  /** Runs the benchmark, prints the summary, returns the process exit code (0 unless it could not run). */
  int run() {
    Vertx vertx = Vertx.vertx();
    // A hard stop in case something hangs beyond every timeout: the benchmark always ends by itself.
    long hardLimitMs = TimeUnit.NANOSECONDS.toMillis(warmupNanos + durationNanos) + DRAIN_GRACE_MS + 15_000;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(hardLimitMs);
        System.err.println("chat-bench: did not finish within " + hardLimitMs + " ms; giving up");
        Runtime.getRuntime().halt(3);
      } catch (InterruptedException ignored) {
        // finished normally
      }
    }, "chat-bench-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();

    HttpClientAgent client = vertx.createHttpClient(
        new HttpClientOptions().setKeepAlive(true).setPipelining(false).setTcpNoDelay(true)
            .setConnectTimeout(5_000),
        new PoolOptions().setHttp1MaxSize(connections));
    int port = url.getPort() >= 0 ? url.getPort() : 80;
    String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    RequestOptions requestOptions = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(url.getHost().replace("[", "").replace("]", ""))
        .setPort(port)
        .setURI(path)
        .setIdleTimeout(REQUEST_TIMEOUT_MS)
        .putHeader("content-type", "application/json")
        .putHeader("accept", stream ? "text/event-stream" : "application/json");

    System.out.printf(Locale.ROOT, "chat-bench: POST %s, %d connections, %d s warmup + %d s measured, "
            + "stream=%s, body=%s%n", url, connections, TimeUnit.NANOSECONDS.toSeconds(warmupNanos),
        TimeUnit.NANOSECONDS.toSeconds(durationNanos), stream, body);

    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      startNanos = System.nanoTime();
      windowStartNanos = startNanos + warmupNanos;
      windowEndNanos = windowStartNanos + durationNanos;
      for (int i = 0; i < connections; i++) {
        next(client, requestOptions);
      }
      // If the window ends with requests still in flight that never finish, stop waiting after the grace.
      vertx.setTimer(TimeUnit.NANOSECONDS.toMillis(warmupNanos + durationNanos) + DRAIN_GRACE_MS, id -> {
        if (finished.getCount() > 0) {
          System.err.println("chat-bench: " + inFlight + " requests still in flight " + DRAIN_GRACE_MS
              + " ms after the window closed; reporting without them");
          finished.countDown();
        }
      });
    });

    int exit = 0;
    try {
      finished.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exit = 1;
    }
    // Read the results on the context that wrote them.
    CountDownLatch printed = new CountDownLatch(1);
    context.runOnContext(v -> {
      printSummary();
      printed.countDown();
    });
    try {
      printed.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      client.close().await(5, TimeUnit.SECONDS);
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception closing) {
      // the numbers are printed; a slow close changes nothing
    }
    watchdog.interrupt();
    if (measured == 0 && nonOk + errors == 0) {
      System.err.println("chat-bench: no request completed in the measured window");
      exit = 1;
    }
    return exit;
  }

  /** One loop's next request, unless the window has closed. Runs on the benchmark context. */
  private void next(HttpClientAgent client, RequestOptions requestOptions) {
    long start = System.nanoTime();
    if (start >= windowEndNanos) {
      if (inFlight == 0 && finished.getCount() > 0) {
        finished.countDown();
      }
      return;
    }
    boolean inWindow = start >= windowStartNanos;
    inFlight++;
    long[] chunkCount = new long[1];
    long[] byteCount = new long[1];
    SseCounter sse = stream ? new SseCounter() : null;
    client.request(requestOptions)
        .compose(request -> request.send(body))
        .compose(response -> readToEnd(response, sse, byteCount)
            .map(status -> {
              chunkCount[0] = sse == null ? 0 : sse.dataEvents;
              return status;
            }))
        .onComplete(result -> {
          long end = System.nanoTime();
          inFlight--;
          if (!inWindow) {
            warmupRequests++;
          } else if (result.failed()) {
            errors++;
            errorCounts.merge(describe(result.cause()), 1L, Long::sum);
            lastMeasuredEndNanos = Math.max(lastMeasuredEndNanos, end);
          } else if (result.result().status != 200) {
            nonOk++;
            statusCounts.merge(result.result().status, 1L, Long::sum);
            if (firstNonOkBody == null) {
              firstNonOkBody = result.result().firstBytes;
            }
            lastMeasuredEndNanos = Math.max(lastMeasuredEndNanos, end);
          } else {
            record(end - start);
            if (sse != null && sse.firstDataNanos > 0) {
              recordFirstChunk(sse.firstDataNanos - start);
            }
            chunks += chunkCount[0];
            bytes += byteCount[0];
            lastMeasuredEndNanos = Math.max(lastMeasuredEndNanos, end);
          }
          next(client, requestOptions);
        });
  }

  private record Outcome(int status, String firstBytes) {
  }

  /** Reads the whole response (time to last byte), counting SSE data events when streaming. */
  private static io.vertx.core.Future<Outcome> readToEnd(HttpClientResponse response, SseCounter sse,
                                                         long[] byteCount) {
    int status = response.statusCode();
    StringBuilder head = status == 200 ? null : new StringBuilder();
    response.handler(buffer -> {
      byteCount[0] += buffer.length();
      if (sse != null && status == 200) {
        sse.feed(buffer);
      }
      if (head != null && head.length() < 300) {
        head.append(buffer.toString());
      }
    });
    return response.end().map(v -> new Outcome(status,
        head == null ? null : head.substring(0, Math.min(300, head.length()))));
  }

  /** Counts {@code data:} lines of an SSE stream, not counting the final {@code data: [DONE]}. */
  static final class SseCounter {
    private static final byte[] DATA = "data:".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] DONE = "data: [DONE]".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    long dataEvents;
    /** When the first data event (not [DONE]) was complete; 0 until then. */
    long firstDataNanos;
    private int matched;       // bytes of the current line matched against "data: [DONE]"
    private boolean lineStart = true;
    private boolean dataLine;
    private boolean doneLine;

    void feed(Buffer buffer) {
      for (int i = 0; i < buffer.length(); i++) {
        byte b = buffer.getByte(i);
        if (b == '\r') {
          continue;
        }
        if (b == '\n') {
          if (dataLine && !doneLine) {
            if (dataEvents++ == 0) {
              firstDataNanos = System.nanoTime();
            }
          }
          lineStart = true;
          dataLine = false;
          doneLine = false;
          matched = 0;
          continue;
        }
        if (lineStart) {
          lineStart = false;
          matched = 0;
          dataLine = false;
          doneLine = false;
        }
        if (matched >= 0 && matched < DONE.length && DONE[matched] == b) {
          matched++;
          if (matched == DATA.length) {
            dataLine = true;
          }
          if (matched == DONE.length) {
            doneLine = true;
          }
        } else if (matched >= 0) {
          if (matched == DONE.length) {
            doneLine = false; // something after [DONE] on the same line: not the terminator
          }
          matched = -1;
        }
      }
    }
  }

  private void record(long nanos) {
    if (measured == latencies.length) {
      latencies = Arrays.copyOf(latencies, latencies.length * 2);
    }
    latencies[measured++] = nanos;
  }

  private void recordFirstChunk(long nanos) {
    if (firstChunkCount == firstChunks.length) {
      firstChunks = Arrays.copyOf(firstChunks, firstChunks.length * 2);
    }
    firstChunks[firstChunkCount++] = nanos;
  }

  private void printSummary() {
    long[] sorted = Arrays.copyOf(latencies, measured);
    Arrays.sort(sorted);
    long[] firstSorted = Arrays.copyOf(firstChunks, firstChunkCount);
    Arrays.sort(firstSorted);
    long elapsedNanos = Math.max(1, Math.max(lastMeasuredEndNanos, windowStartNanos) - windowStartNanos);
    double seconds = elapsedNanos / 1e9;
    double rps = measured / seconds;
    long failed = nonOk + errors;
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "chat-bench: measured %.3f s (window %d s, requests in flight "
        + "at its end allowed to finish); %d warmup requests not counted%n", seconds,
        TimeUnit.NANOSECONDS.toSeconds(durationNanos), warmupRequests));
    out.append(String.format(Locale.ROOT, "  requests   %d ok (HTTP 200), %d non-200, %d errors%n",
        measured, nonOk, errors));
    if (!statusCounts.isEmpty()) {
      out.append("  non-200    ").append(statusCounts).append(" first body: ").append(firstNonOkBody)
          .append(System.lineSeparator());
    }
    if (!errorCounts.isEmpty()) {
      out.append("  errors     ").append(errorCounts).append(System.lineSeparator());
    }
    out.append(String.format(Locale.ROOT, "  req/s      %.1f (HTTP 200 responses per second)%n", rps));
    out.append(String.format(Locale.ROOT, "  latency    p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms "
            + "(time to last byte, HTTP 200 only)%n",
        ms(percentile(sorted, 50)), ms(percentile(sorted, 90)), ms(percentile(sorted, 99)),
        ms(sorted.length == 0 ? -1 : sorted[sorted.length - 1])));
    if (stream) {
      out.append(String.format(Locale.ROOT, "  stream     %d data chunks (%.2f per request), %d bytes%n", chunks,
          measured == 0 ? 0.0 : (double) chunks / measured, bytes));
      out.append(String.format(Locale.ROOT, "  1st chunk  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms (request sent to "
              + "first data event)%n", ms(percentile(firstSorted, 50)), ms(percentile(firstSorted, 90)),
          ms(percentile(firstSorted, 99))));
    } else {
      out.append(String.format(Locale.ROOT, "  bytes      %d response body bytes (%.0f per request)%n", bytes,
          measured == 0 ? 0.0 : (double) bytes / measured));
    }
    out.append(String.format(Locale.ROOT, "chat-bench: connections=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d%s%n",
        connections, rps, ms(percentile(sorted, 50)), ms(percentile(sorted, 99)), failed,
        stream ? String.format(Locale.ROOT, " stream=true chunks=%d first_chunk_p50_ms=%.3f first_chunk_p99_ms=%.3f",
            chunks, ms(percentile(firstSorted, 50)), ms(percentile(firstSorted, 99))) : ""));
    System.out.print(out);
    System.out.flush();
  }

  private static double ms(long nanos) {
    return nanos < 0 ? Double.NaN : nanos / 1e6;
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return failure.getClass().getSimpleName() + (message == null ? "" : ": "
        + (message.length() > 120 ? message.substring(0, 120) : message));
  }

  static String usage() {
    return BenchOptions.usage("usage: java -jar load-tests/target/switchboard-bench.jar [options]\n"
        + "Closed-loop load on POST /v1/chat/completions; loopback targets only. Options (or -Dbench.NAME=VALUE):",
        DEFAULTS);
  }

  static Map<String, String> parse(String[] args) {
    return BenchOptions.parse(args, DEFAULTS);
  }
}
