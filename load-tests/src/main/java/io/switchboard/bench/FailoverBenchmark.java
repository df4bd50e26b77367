package io.switchboard.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Opens {@code --streams} concurrent streaming completions through a gateway, SIGKILLs one worker node
 * ({@code --kill-pid}) once every stream has produced text, and checks every stream: complete ({@code [DONE]},
 * {@code max_tokens} completion tokens, the exact text an unbroken answer has), or failed. Prints the last line
 * {@code streams=N completed=N failed=N migrated=N detection_s=X}, where detection is the longest pause a stream
 * saw across the kill (failure noticed, stream re-sent, first token from the new worker). Loopback only; stops
 * by itself.
 */
public final class FailoverBenchmark {

  static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("url", "http://127.0.0.1:18100/v1/completions");
    DEFAULTS.put("model", "mock-llm");
    DEFAULTS.put("streams", "200");
    DEFAULTS.put("max-tokens", "120");
    DEFAULTS.put("kill-pid", "0");
    DEFAULTS.put("timeout-seconds", "60");
  }

  private static final class Stream {
    final StringBuilder text = new StringBuilder();
    long lastChunkNanos;
    long longestGapAcrossKillNanos;
    boolean done;
    boolean failed;
    String failure;
    int completionTokens = -1;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> options;
    try {
      options = BenchOptions.parse(args, DEFAULTS);
      if (options.containsKey("help")) {
        System.out.println(BenchOptions.usage("usage: java -cp load-tests/target/switchboard-bench.jar "
            + "io.switchboard.bench.FailoverBenchmark [options]", DEFAULTS));
        return;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("failover-bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    URI url = BenchOptions.loopbackUrl(options.get("url"));
    int count = BenchOptions.positiveInt(options, "streams");
    int maxTokens = BenchOptions.positiveInt(options, "max-tokens");
    long killPid = Long.parseLong(options.get("kill-pid"));
    int timeoutSeconds = BenchOptions.positiveInt(options, "timeout-seconds");
    String model = options.get("model");
    Buffer body = new JsonObject().put("model", model).put("prompt", "tell a long story").put("max_tokens", maxTokens)
        .put("stream", true).put("stream_options", new JsonObject().put("include_usage", true)).toBuffer();

    Vertx vertx = Vertx.vertx();
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(count + 8));
    RequestOptions request = new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost())
        .setPort(url.getPort()).setURI(url.getRawPath()).putHeader("content-type", "application/json")
        .setIdleTimeout(timeoutSeconds * 1000L);

    Buffer unbroken = new JsonObject().put("model", model).put("prompt", "tell a long story")
        .put("max_tokens", maxTokens).toBuffer();
    String expected = client.request(request)
        .compose(req -> req.send(unbroken))
        .compose(response -> response.body())
        .map(b -> new JsonObject(b).getJsonArray("choices").getJsonObject(0).getString("text"))
        .toCompletionStage().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);

    List<Stream> streams = new ArrayList<>();
    CountDownLatch ended = new CountDownLatch(count);
    CountDownLatch allStarted = new CountDownLatch(count);
    long[] killedAt = {0};
    var context = vertx.getOrCreateContext();
    context.runOnContext(v -> {
      for (int i = 0; i < count; i++) {
        Stream stream = new Stream();
        streams.add(stream);
        boolean[] started = {false};
        SseEvents events = new SseEvents(data -> {
          long now = System.nanoTime();
          if (killedAt[0] != 0 && stream.lastChunkNanos < killedAt[0]) {
            stream.longestGapAcrossKillNanos = Math.max(stream.longestGapAcrossKillNanos, now - stream.lastChunkNanos);
          }
          stream.lastChunkNanos = now;
          if (data.equals("[DONE]")) {
            stream.done = true;
            return;
          }
          JsonObject event = new JsonObject(data);
          if (event.containsKey("error")) {
            stream.failed = true;
            stream.failure = event.getJsonObject("error").getString("message");
            return;
          }
          var choices = event.getJsonArray("choices");
          if (choices != null && !choices.isEmpty()) {
            stream.text.append(choices.getJsonObject(0).getString("text", ""));
            if (!started[0] && stream.text.length() > 0) {
              started[0] = true;
              allStarted.countDown();
            }
          }
          if (event.getJsonObject("usage") != null) {
            stream.completionTokens = event.getJsonObject("usage").getInteger("completion_tokens");
          }
        });
        client.request(request).compose(req -> req.send(body)).onComplete(result -> {
          if (result.failed() || result.result().statusCode() != 200) {
            stream.failed = true;
            stream.failure = result.failed() ? result.cause().toString() : "HTTP " + result.result().statusCode();
            if (!started[0]) {
              started[0] = true;
              allStarted.countDown();
            }
            ended.countDown();
            return;
          }
          result.result().handler(events::feed);
          result.result().end().onComplete(end -> ended.countDown());
        });
      }
    });
    if (!allStarted.await(timeoutSeconds, TimeUnit.SECONDS)) {
      System.err.println("failover-bench: not every stream started within " + timeoutSeconds + " s");
    }
    if (killPid > 0) {
      context.runOnContext(v -> killedAt[0] = System.nanoTime());
      Thread.sleep(5);
      boolean killed = ProcessHandle.of(killPid).map(ProcessHandle::destroyForcibly).orElse(false);
      System.out.println("failover-bench: " + count + " streams open; SIGKILL worker node pid " + killPid
          + (killed ? "" : " (it was not running)"));
    }
    boolean allEnded = ended.await(timeoutSeconds, TimeUnit.SECONDS);
    CountDownLatch summarised = new CountDownLatch(1);
    String[] line = new String[1];
    context.runOnContext(v -> {
      int completed = 0;
      int failed = 0;
      long detection = 0;
      Map<String, Integer> reasons = new TreeMap<>();
      for (Stream stream : streams) {
        boolean whole = stream.done && !stream.failed && stream.completionTokens == maxTokens
            && stream.text.toString().equals(expected);
        if (whole) {
          completed++;
        } else {
          failed++;
          reasons.merge(stream.failure != null ? stream.failure : stream.done ? "text or token count differs"
              : "did not end", 1, Integer::sum);
        }
        detection = Math.max(detection, stream.longestGapAcrossKillNanos);
      }
      if (!reasons.isEmpty()) {
        System.out.println("failover-bench: failures: " + reasons);
      }
      line[0] = String.format(Locale.ROOT, "streams=%d completed=%d failed=%d migrated=%%d detection_s=%.2f",
          count, completed, failed, detection / 1e9);
      summarised.countDown();
    });
    summarised.await();
    if (!allEnded) {
      System.out.println("failover-bench: some streams had not ended after " + timeoutSeconds + " s");
    }
    System.out.println(String.format(Locale.ROOT, line[0], migrations(url, model)));
    client.close();
    vertx.close();
    System.exit(0);
  }

  /** Streams the gateway migrated for the model, from its metrics; -1 when unavailable. */
  private static long migrations(URI url, String model) {
    try {
      var http = java.net.http.HttpClient.newHttpClient();
      String text = http.send(java.net.http.HttpRequest.newBuilder(url.resolve("/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      for (String line : text.split("\n")) {
        if (line.startsWith("switchboard_stream_migrations_total{") && line.contains("model=\"" + model + "\"")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return 0;
    } catch (Exception e) {
      return -1;
    }
  }
}
