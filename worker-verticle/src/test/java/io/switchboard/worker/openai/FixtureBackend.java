package io.switchboard.worker.openai;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * An HTTP server that answers like a vLLM or SGLang server would, from real captured samples of their
 * {@code /v1/models} and {@code /metrics} (test resources under {@code backends/}), and answers generations the
 * way each test scripts. Records what it received (bodies, headers) and how many requests the client closed.
 * Only for the parts of a GPU backend that cannot run on this machine.
 */
final class FixtureBackend implements AutoCloseable {

  /** Writes the answer to one generation or embeddings request, given its parsed body. */
  interface Answer extends BiConsumer<JsonObject, HttpServerRequest> {
  }

  private final Vertx vertx;
  private HttpServer server;
  private int port;
  volatile String models;
  volatile String metrics;
  volatile int healthStatus = 200;
  volatile Answer answer = FixtureBackend::sse;
  final List<JsonObject> bodies = new CopyOnWriteArrayList<>();
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  /** "x-request-id traceparent" of every generation request. */
  final List<String> correlation = new CopyOnWriteArrayList<>();
  final List<String> paths = new CopyOnWriteArrayList<>();
  final AtomicInteger closedByClient = new AtomicInteger();
  /** Connections that carried a generation request and were closed since. */
  final AtomicInteger generationConnectionsClosed = new AtomicInteger();

  /** @param sample "vllm", "sglang", ... : the directory of captured samples to serve */
  FixtureBackend(Vertx vertx, String sample) throws IOException {
    this.vertx = vertx;
    this.models = resource("backends/" + sample + "/models.json");
    this.metrics = resource("backends/" + sample + "/metrics.txt");
  }

  static String resource(String path) throws IOException {
    try (InputStream in = FixtureBackend.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IOException("test resource " + path + " is missing");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  FixtureBackend start(int wantedPort) throws Exception {
    server = vertx.createHttpServer().requestHandler(this::handle);
    port = server.listen(wantedPort, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    return this;
  }

  int port() {
    return port;
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  /** Stops answering (the port is closed), as a crashed backend would. */
  void stop() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    stop();
  }

  private void handle(HttpServerRequest request) {
    paths.add(request.method() + " " + request.path());
    authorizations.add(String.valueOf(request.getHeader("authorization")));
    switch (request.path()) {
      case "/v1/models" -> request.response().putHeader("content-type", "application/json").end(models);
      case "/health" -> request.response().setStatusCode(healthStatus).end();
      // A chat-only server, as far as the workers' native-dialect probe can tell.
      case "/v1/responses", "/v1/messages" -> request.response().setStatusCode(404).end("Not Found");
      case "/metrics" -> {
        if (metrics == null) {
          request.response().setStatusCode(404).end("Not Found");
        } else {
          request.response().putHeader("content-type", "text/plain; version=0.0.4").end(metrics);
        }
      }
      default -> request.body().onSuccess(body -> {
        correlation.add(request.getHeader("x-request-id") + " " + request.getHeader("traceparent"));
        JsonObject json = body.length() == 0 ? new JsonObject() : new JsonObject(body);
        bodies.add(json);
        request.connection().closeHandler(v -> generationConnectionsClosed.incrementAndGet());
        request.response().closeHandler(v -> {
          if (!request.response().ended()) {
            closedByClient.incrementAndGet();
          }
        });
        answer.accept(json, request);
      });
    }
  }

  /** A short streamed chat answer, OpenAI's way: role, two text deltas, finish, usage, [DONE]. */
  static void sse(JsonObject body, HttpServerRequest request) {
    events(request, List.of(
        delta(new JsonObject().put("role", "assistant").put("content", ""), null),
        delta(new JsonObject().put("content", "Hello"), null),
        delta(new JsonObject().put("content", " world"), null),
        delta(new JsonObject(), "stop"),
        new JsonObject().put("choices", new io.vertx.core.json.JsonArray())
            .put("usage", new JsonObject().put("prompt_tokens", 9).put("completion_tokens", 2))), true);
  }

  static JsonObject delta(JsonObject delta, String finishReason) {
    return new JsonObject().put("id", "chatcmpl-1").put("object", "chat.completion.chunk")
        .put("choices", new io.vertx.core.json.JsonArray().add(new JsonObject().put("index", 0).put("delta", delta)
            .put("finish_reason", finishReason)));
  }

  /** Writes the events as SSE; ends with [DONE] when {@code end}, else leaves the stream open. */
  static void events(HttpServerRequest request, List<JsonObject> events, boolean end) {
    var response = request.response().setChunked(true).putHeader("content-type", "text/event-stream");
    for (JsonObject event : events) {
      response.write(Buffer.buffer("data: " + event.encode() + "\n\n"));
    }
    if (end) {
      response.end("data: [DONE]\n\n");
    }
  }

  static Answer status(int status, String body) {
    return (json, request) -> request.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(body);
  }
}
