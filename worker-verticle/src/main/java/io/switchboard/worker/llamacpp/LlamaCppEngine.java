package io.switchboard.worker.llamacpp;

import io.switchboard.protocol.GenerateRequest;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Engine;
import io.switchboard.worker.engine.Generation;
import io.switchboard.worker.openai.OpenAiStreamingCall;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The llamacpp engine, attached to a running llama-server: start waits until its {@code /health} answers 200,
 * and every generation streams through its OpenAI API ({@link OpenAiStreamingCall}).
 */
public final class LlamaCppEngine implements Engine {

  public static final String KIND = "llamacpp";
  private static final Logger log = LoggerFactory.getLogger(LlamaCppEngine.class);
  private static final long HEALTH_RETRY_MS = 250;

  private final Vertx vertx;
  private final LlamaCppOptions options;
  private final String workerId;
  private final RequestOptions target;
  private final String backendName;
  private final HttpClient client;

  public LlamaCppEngine(Vertx vertx, LlamaCppOptions options, String workerId, int slots) {
    this.vertx = vertx;
    this.options = options;
    this.workerId = workerId;
    URI uri = URI.create(options.getUrl());
    int port = uri.getPort() > 0 ? uri.getPort() : 80;
    this.target = new RequestOptions().setHost(uri.getHost()).setPort(port)
        .setURI(uri.getRawPath() == null ? "" : uri.getRawPath());
    this.backendName = "llama-server at " + uri.getHost() + ":" + port;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setConnectTimeout(5000), new PoolOptions().setHttp1MaxSize(Math.max(1, slots)));
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public Future<Void> start() {
    Promise<Void> healthy = Promise.promise();
    long deadline = System.currentTimeMillis() + options.getStartupTimeoutMs();
    checkHealth(healthy, deadline, "no answer yet");
    return healthy.future().onSuccess(v -> log.info("attached to llama-server", kv("workerId", workerId),
        kv("backend", backendName)));
  }

  private void checkHealth(Promise<Void> healthy, long deadline, String last) {
    if (System.currentTimeMillis() > deadline) {
      healthy.fail(backendName + " did not become healthy within " + options.getStartupTimeoutMs() + " ms ("
          + last + "); is it running, and is llamacpp.url right?");
      return;
    }
    client.request(new RequestOptions(target).setMethod(HttpMethod.GET).setURI(target.getURI() + "/health"))
        .compose(req -> req.send().compose(resp -> resp.body().map(body -> resp.statusCode() + " " + body)))
        .onComplete(done -> {
          if (done.succeeded() && done.result().startsWith("200")) {
            healthy.complete();
          } else {
            String now = done.succeeded() ? "GET /health answered " + done.result() : done.cause().getMessage();
            vertx.setTimer(HEALTH_RETRY_MS, id -> checkHealth(healthy, deadline, now));
          }
        });
  }

  @Override
  public Generation generate(GenerateRequest request, ChunkSink sink) {
    return new OpenAiStreamingCall(client, target, backendName, workerId, request, sink).start();
  }

  @Override
  public Future<Void> stop() {
    return client.close();
  }
}
