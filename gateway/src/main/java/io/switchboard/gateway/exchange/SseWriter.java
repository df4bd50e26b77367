package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.RequestIds;
import io.switchboard.runtime.json.JsonText;
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
  /** Events held back to go out in one write ({@link #hold}), or null when each is written at once. */
  private StringBuilder held;
  /** The frame of the event {@link #startEvent} started, and where the event began in it. */
  private StringBuilder open;
  private int openFrom;

  public SseWriter(HttpServerResponse response) {
    this.response = response;
  }

  /**
   * Holds the events that follow until {@link #release}, {@link #end}, {@link #done} or {@link #failed}, which write
   * them in one go: a piece of the answer that makes several events (the first one's role chunk, or the Responses
   * API's item added, part added and delta) goes out as one chunk instead of one write, and one system call, each.
   * The bytes are the same.
   */
  public void hold() {
    hold(512);
  }

  /** {@link #hold()}, with room for about {@code chars} characters of events (no copying as they come). */
  public void hold(int chars) {
    if (held == null) {
      held = new StringBuilder(chars);
    }
  }

  /** Writes the events held since {@link #hold}, and writes events at once again. */
  public void release() {
    String events = takeHeld();
    if (events != null) {
      response.write(Buffer.buffer(events));
    }
  }

  /** What is held, for the last write, and holds no more; null when nothing is. */
  private String takeHeld() {
    StringBuilder events = held;
    held = null;
    return events == null || events.isEmpty() ? null : events.toString();
  }

  private void write(StringBuilder frame) {
    if (frame != held) {
      response.write(Buffer.buffer(frame.toString()));
    }
  }

  /**
   * Sends the head: 200 with the event-stream content type; proxies are told not to buffer. Nothing when the head went
   * out already (with a {@link #keepAlive} comment).
   */
  public void begin(String requestId) {
    if (response.headWritten()) {
      return;
    }
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
    StringBuilder frame = held != null ? held : new StringBuilder(192);
    write(frame(frame.append("event: ").append(name).append('\n'), data));
  }

  /** A named event whose JSON the caller wrote (a dialect's fast path for an event it writes without a tree). */
  public void event(String name, CharSequence json) {
    StringBuilder frame = held != null ? held : new StringBuilder(json.length() + 64);
    write(frame.append("event: ").append(name).append("\ndata: ").append(json).append("\n\n"));
  }

  /**
   * Starts a named event and returns the frame to append its data's JSON to (no copy of the JSON on the way, as
   * {@link #event(String, CharSequence)} makes); {@link #endEvent} ends it, {@link #dropEvent} takes it back.
   */
  public StringBuilder startEvent(String name) {
    StringBuilder frame = held != null ? held : new StringBuilder(256);
    open = frame;
    openFrom = frame.length();
    return frame.append("event: ").append(name).append("\ndata: ");
  }

  /**
   * Starts an unnamed event (as chat streams send them) and returns the frame to append its data's JSON to;
   * {@link #endEvent} ends it.
   */
  public StringBuilder startData() {
    StringBuilder frame = held != null ? held : new StringBuilder(256);
    open = frame;
    openFrom = frame.length();
    return frame.append("data: ");
  }

  /** Ends the event {@link #startEvent} or {@link #startData} started: written now, or with the events held. */
  public void endEvent() {
    StringBuilder frame = open;
    open = null;
    write(frame.append("\n\n"));
  }

  /** Takes back the event {@link #startEvent} started, as if it had not been (its writer gave up on it). */
  public void dropEvent() {
    open.setLength(openFrom);
    open = null;
  }

  /**
   * Appends {@code data: }, the data's JSON as {@code data.toBuffer()} writes it, and the blank line that ends an
   * event.
   */
  private static StringBuilder frame(StringBuilder frame, JsonObject data) {
    int start = frame.append("data: ").length();
    if (!JsonText.appendAsToBuffer(frame, data)) {
      frame.setLength(start);
      frame.append(data.toBuffer().toString(StandardCharsets.UTF_8));
    }
    return frame.append("\n\n");
  }

  /** A comment line: keeps an idle connection open through proxies, and clients ignore it. */
  public void comment(String text) {
    StringBuilder frame = held != null ? held : new StringBuilder();
    write(frame.append(": ").append(text).append("\n\n"));
  }

  /** A comment that keeps the connection alive while the answer waits, after the head if it did not go out yet. */
  public void keepAlive(String requestId, String text) {
    begin(requestId);
    comment(text);
  }

  /** Whether the head went out (with the answer's first events, or with a keep-alive comment). */
  public boolean headWritten() {
    return response.headWritten();
  }

  /** Ends the stream without a [DONE] line (dialects whose last event says the stream is complete). */
  public Future<Void> end() {
    String last = takeHeld();
    return last == null ? response.end() : response.end(Buffer.buffer(last));
  }

  public void event(JsonObject data) {
    write(frame(held != null ? held : new StringBuilder(192), data));
  }

  /** Ends a complete stream; the future completes when the last byte went to the connection. */
  public Future<Void> done() {
    String last = takeHeld();
    return response.end(last == null ? DONE.copy() : Buffer.buffer(last + "data: [DONE]\n\n"));
  }

  /**
   * Ends a failed stream: an error event the client can read, and no [DONE], so it cannot pass for complete. The
   * future completes when the last byte went to the connection.
   */
  public Future<Void> failed(ApiError error) {
    event(error.toJson());
    return end();
  }

  public boolean writeQueueFull() {
    return response.writeQueueFull();
  }
}
