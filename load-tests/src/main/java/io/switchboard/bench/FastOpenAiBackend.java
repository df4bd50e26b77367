package io.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.LinkedHashMap;

/**
 * A zero-latency OpenAI-compatible server for benchmarks, so that what is measured is whatever sits between
 * the client and it (Switchboard, nginx, or nothing): {@code GET /v1/models}, {@code GET /health}, and
 * {@code POST /v1/chat/completions} answering {@code max_tokens} tokens (" t0", " t1", …) at once, whole or as
 * SSE chunks (one per token, then usage and {@code [DONE]}). Answers are prebuilt per token count; the
 * request body is read (a real server reads it) but only {@code model}, {@code max_tokens} and {@code stream} are
 * looked at. A stream for {@value #MODEL} is written in one write; a stream for {@value #PER_TOKEN_MODEL} (the
 * same answer, listed as a second model) is written one SSE event per write, each written after the one before
 * has been flushed to the socket, so whatever relays it gets many small chunks (as from an engine generating
 * tokens), not one large read. Listens on 127.0.0.1 only.
 *
 * <p>{@code java -cp switchboard-bench.jar io.switchboard.bench.FastOpenAiBackend [--port 18090]
 * [--event-loops 1]}
 */
public final class FastOpenAiBackend {

  static final String MODEL = "fast-llm";
  /** The same answers, streamed one SSE event per socket write. */
  static final String PER_TOKEN_MODEL = "fast-llm-per-token";
  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("port", "18090");
    DEFAULTS.put("event-loops", "1");
  }

  private final Map<Integer, Buffer> whole = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Integer, Buffer> streamed = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<Integer, Buffer[]> events = new java.util.concurrent.ConcurrentHashMap<>();
  private static final Buffer MODELS = new JsonObject().put("object", "list").put("data", new JsonArray()
      .add(new JsonObject().put("id", MODEL).put("object", "model").put("created", 0)
          .put("owned_by", "fast-backend"))
      .add(new JsonObject().put("id", PER_TOKEN_MODEL).put("object", "model").put("created", 0)
          .put("owned_by", "fast-backend"))).toBuffer();

  public static void main(String[] args) {
    Map<String, String> options = BenchOptions.parse(args, DEFAULTS);
    int port = BenchOptions.nonNegativeInt(options, "port");
    int loops = BenchOptions.positiveInt(options, "event-loops");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    FastOpenAiBackend backend = new FastOpenAiBackend();
    for (int i = 0; i < loops; i++) {
      vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port).setTcpNoDelay(true))
          .requestHandler(backend::handle).listen().await();
    }
    System.out.println("fast-backend: listening on 127.0.0.1:" + port + " with " + loops + " event loop(s)");
  }

  void handle(HttpServerRequest request) {
    String path = request.path();
    if (path.endsWith("/models")) {
      request.response().putHeader("content-type", "application/json").end(MODELS);
    } else if (path.equals("/health")) {
      request.response().end();
    } else if (path.endsWith("/chat/completions") && request.method().name().equals("POST")) {
      request.body().onSuccess(body -> {
        JsonObject json = body.toJsonObject();
        int tokens = Math.max(1, Math.min(4096, json.getInteger("max_tokens", 16)));
        if (json.getBoolean("stream", false) && PER_TOKEN_MODEL.equals(json.getString("model"))) {
          HttpServerResponse response = request.response().putHeader("content-type", "text/event-stream")
              .setChunked(true);
          writeFrom(response, events.computeIfAbsent(tokens, FastOpenAiBackend::streamedEvents), 0);
        } else if (json.getBoolean("stream", false)) {
          request.response().putHeader("content-type", "text/event-stream")
              .end(streamed.computeIfAbsent(tokens, FastOpenAiBackend::streamedAnswer));
        } else {
          request.response().putHeader("content-type", "application/json")
              .end(whole.computeIfAbsent(tokens, FastOpenAiBackend::wholeAnswer));
        }
      });
    } else {
      request.response().setStatusCode(404).end("{\"error\":{\"message\":\"no such path\"}}");
    }
  }

  /**
   * Writes event {@code next} and, once it is flushed, the one after it on a later turn of the event loop (so
   * the streams in flight interleave and the stack stays flat); ends the response with the last.
   */
  private static void writeFrom(HttpServerResponse response, Buffer[] events, int next) {
    if (next == events.length - 1) {
      response.end(events[next]);
      return;
    }
    Context context = Vertx.currentContext();
    response.write(events[next]).onComplete(written -> {
      if (written.succeeded()) {
        context.runOnContext(v -> writeFrom(response, events, next + 1));
      } else {
        response.reset();
      }
    });
  }

  static String token(int i) {
    return " t" + i;
  }

  private static Buffer wholeAnswer(int tokens) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < tokens; i++) {
      text.append(token(i));
    }
    return new JsonObject().put("id", "chatcmpl-fast").put("object", "chat.completion").put("created", 0)
        .put("model", MODEL).put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("message", new JsonObject().put("role", "assistant").put("content", text.toString()))
            .put("finish_reason", "length")))
        .put("usage", usage(tokens)).toBuffer();
  }

  private static Buffer streamedAnswer(int tokens) {
    Buffer out = Buffer.buffer();
    for (Buffer event : streamedEvents(tokens)) {
      out.appendBuffer(event);
    }
    return out;
  }

  /** The stream's SSE events, one buffer each: a chunk per token, the finish chunk, usage, {@code [DONE]}. */
  private static Buffer[] streamedEvents(int tokens) {
    Buffer[] out = new Buffer[tokens + 3];
    for (int i = 0; i < tokens; i++) {
      out[i] = Buffer.buffer().appendString("data: ")
          .appendBuffer(chunk(new JsonObject().put("content", token(i)), null).toBuffer()).appendString("\n\n");
    }
    out[tokens] = Buffer.buffer().appendString("data: ").appendBuffer(chunk(new JsonObject(), "length").toBuffer())
        .appendString("\n\n");
    out[tokens + 1] = Buffer.buffer().appendString("data: ").appendBuffer(new JsonObject().put("id", "chatcmpl-fast")
        .put("object", "chat.completion.chunk").put("created", 0).put("model", MODEL)
        .put("choices", new JsonArray()).put("usage", usage(tokens)).toBuffer()).appendString("\n\n");
    out[tokens + 2] = Buffer.buffer("data: [DONE]\n\n");
    return out;
  }

  private static JsonObject chunk(JsonObject delta, String finish) {
    return new JsonObject().put("id", "chatcmpl-fast").put("object", "chat.completion.chunk").put("created", 0)
        .put("model", MODEL).put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("delta", delta).put("finish_reason", finish)));
  }

  private static JsonObject usage(int tokens) {
    return new JsonObject().put("prompt_tokens", 5).put("completion_tokens", tokens)
        .put("total_tokens", 5 + tokens);
  }
}
