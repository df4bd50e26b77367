package io.switchboard.gateway.exchange;

import io.switchboard.gateway.api.ApiError;
import io.switchboard.gateway.api.RequestIds;
import io.switchboard.protocol.JsonText;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * Writes Server-Sent Events framed exactly as OpenAI frames them: {@code data: {json}\n\n} per event and
 * {@code data: [DONE]\n\n} at the end. vertx-web has no server-side SSE helper; this is the small one.
 */
public final class SseWriter {

  private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");

  private final HttpServerResponse response;

  public SseWriter(HttpServerResponse response) {
    this.response = response;
  }

  /** Sends the head: 200 with the event-stream content type; proxies are told not to buffer. */
  public void begin(String requestId) {
    response.setStatusCode(200)
        .setChunked(true)
        .putHeader("content-type", "text/event-stream; charset=utf-8")
        .putHeader("cache-control", "no-cache")
        .putHeader("x-accel-buffering", "no")
        .putHeader(RequestIds.HEADER, requestId);
  }

  /**
   * An event with a name ({@code event: NAME}), as the Responses and Messages APIs send them. The JSON is written by
   * {@link JsonText} with the bytes Vert.x's codec would write: Jackson's serializers were the largest part of a
   * streamed event's cost (docs/performance.md, "Dialects").
   */
  public void event(String name, JsonObject data) {
    response.write(frame("event: " + name + "\ndata: ", data));
  }

  /** {@code head}, the data's JSON as {@code data.toBuffer()} writes it, and the blank line that ends an event. */
  private static Buffer frame(String head, JsonObject data) {
    StringBuilder frame = new StringBuilder(head.length() + 160).append(head);
    if (!JsonText.appendAsToBuffer(frame, data)) {
      frame.setLength(head.length());
      frame.append(data.toBuffer().toString(StandardCharsets.UTF_8));
    }
    return Buffer.buffer(frame.append("\n\n").toString());
  }

  /** A comment line: keeps an idle connection open through proxies, and clients ignore it. */
  public void comment(String text) {
    response.write(Buffer.buffer(": " + text + "\n\n"));
  }

  /** Ends the stream without a [DONE] line (dialects whose last event says the stream is complete). */
  public Future<Void> end() {
    return response.end();
  }

  public void event(JsonObject data) {
    response.write(frame("data: ", data));
  }

  /** Ends a complete stream; the future completes when the last byte went to the connection. */
  public Future<Void> done() {
    return response.end(DONE.copy());
  }

  /**
   * Ends a failed stream: an error event the client can read, and no [DONE], so it cannot pass for complete. The
   * future completes when the last byte went to the connection.
   */
  public Future<Void> failed(ApiError error) {
    event(error.toJson());
    return response.end();
  }

  public boolean writeQueueFull() {
    return response.writeQueueFull();
  }
}
