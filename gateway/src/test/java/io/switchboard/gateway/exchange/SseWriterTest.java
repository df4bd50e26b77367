package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/** Events held and written in one go are the bytes of the same events written one by one. */
class SseWriterTest {

  private static Vertx vertx;
  private static HttpServer server;
  private static volatile Consumer<HttpServerResponse> script;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(request -> script.accept(request.response()))
        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static String body(Consumer<HttpServerResponse> writes) throws Exception {
    script = writes;
    var client = vertx.createHttpClient();
    try {
      Buffer body = client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/")
          .compose(request -> request.send().compose(response -> response.body()))
          .await(10, TimeUnit.SECONDS);
      return body.toString(StandardCharsets.UTF_8);
    } finally {
      client.close();
    }
  }

  /** Events of every kind SseWriter writes: named, unnamed, a comment, one its fast writer leaves to Vert.x. */
  private static void events(SseWriter sse) {
    sse.event("response.created", new JsonObject().put("type", "response.created").put("sequence_number", 0)
        .put("response", new JsonObject().put("text", "h\u00e9 \"x\" \ud83e\udd8a \u0001").putNull("user")
            .put("temperature", 0.7).put("tools", new JsonArray())));
    sse.comment("keep-alive");
    sse.event(new JsonObject().put("choices", new JsonArray().add(new JsonObject().put("index", 0))));
    sse.event("odd", new JsonObject().put("when", Instant.parse("2026-12-06T05:00:00Z")));
  }

  @Test
  void heldEventsAreTheBytesOfEventsWrittenOneByOne() throws Exception {
    String oneByOne = body(response -> {
      SseWriter sse = new SseWriter(response);
      sse.begin("req-1");
      events(sse);
      sse.done();
    });
    String held = body(response -> {
      SseWriter sse = new SseWriter(response);
      sse.begin("req-1");
      sse.hold();
      events(sse);
      sse.release();
      sse.hold();
      events(sse);
      sse.done();
    });
    assertThat(oneByOne).startsWith("event: response.created\ndata: {\"type\":\"response.created\"")
        .contains("\\uD83E\\uDD8A", ": keep-alive\n\n", "event: odd\ndata: {\"when\":\"2026-12-06T05:00:00Z\"}\n\n")
        .endsWith("data: [DONE]\n\n");
    String events = oneByOne.substring(0, oneByOne.length() - "data: [DONE]\n\n".length());
    assertThat(held).isEqualTo(events + events + "data: [DONE]\n\n");
  }

  @Test
  void aFailureEndsWithItsEventWhatWasHeldBeforeIt() throws Exception {
    String failed = body(response -> {
      SseWriter sse = new SseWriter(response);
      sse.begin("req-1");
      sse.hold();
      sse.event("ping", new JsonObject().put("type", "ping"));
      sse.failed(new ApiError(503, "service_unavailable_error", "worker_failed", null, "the worker failed"));
    });
    assertThat(failed).startsWith("event: ping\ndata: {\"type\":\"ping\"}\n\ndata: {\"error\":")
        .contains("worker_failed").endsWith("}\n\n").doesNotContain("[DONE]");
  }
}
