package io.switchboard.worker.openai;

import io.switchboard.protocol.DeadlineSweep;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.JsonText;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * One generation against an OpenAI-compatible server (llama-server, vLLM, SGLang, ...): the client's body goes
 * through as given (tools, response_format, logprobs and whatever else the backend supports) with
 * {@code stream: true}, usage requested and the model renamed to the backend's name; the server's events are
 * read from the bytes ({@link SseEventReader}, most of them without a JSON tree: {@link PlainChunk}), and the
 * sink's backpressure pauses the event stream, which pauses the HTTP response. Text goes to the sink as text; tool calls, reasoning and logprobs go beside it as the chunk's
 * extra. A text generated earlier by another worker is continued the way the backend kind does it. Every failure
 * ends the sink with a typed error naming the backend; a cancel resets the HTTP request, which closes the
 * backend's request.
 */
public final class OpenAiStreamingCall implements Generation {

  // Header names encoded once, not on every request.
  private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final CharSequence TRACEPARENT = HttpHeaders.createOptimized("traceparent");

  /** Delta fields that are the text itself; every other delta field is passed through. */
  private static final Set<String> TEXT_FIELDS = Set.of("content", "role");
  /** The data of the event that ends an OpenAI stream. */
  private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

  private final HttpClient client;
  private final BackendEndpoint endpoint;
  private final BackendKind.ChatResume chatResume;
  private final BackendTokenLimit tokenLimit;
  /** Streamed tokens of this part at which the worker ends the stream itself ("length"); 0 = the backend stops. */
  private final int watchAt;
  private final String backendModel;
  private final DeadlineSweep deadlines;
  private final long idleTimeoutMs;
  private final String workerId;
  private final GenerateRequest request;
  private final ChunkSink sink;
  private final PlainEventReader plainEvents;
  private HttpClientRequest httpRequest;
  private SseEventReader events;
  private HttpClientResponse response;
  private boolean paused;
  /** The backend's response ended (its last byte was read). */
  private boolean ended;
  private DeadlineSweep.Deadline silence;
  private boolean done;
  private int attempts;
  private String finishReason;
  private Usage usage;
  private int tokens;
  /** Plain text read but not yet written: the text of the events that came in one read (see deliver). */
  private final StringBuilder pendingText = new StringBuilder();
  private int pendingTokens;

  /**
   * @param kind          the backend's kind: how it continues an answer, where its token limit goes
   * @param contextTokens the model's context in tokens where the worker knows it (bounds a request without
   *                      max_tokens), else 0
   * @param backendModel  the backend's name of the requested model (aliases rename); null keeps the client's
   * @param deadlines     the engine's timeouts, where this call's idle watchdog is kept
   * @param idleTimeoutMs how long the backend may send nothing (before its first byte, or between events)
   */
  public OpenAiStreamingCall(HttpClient client, BackendEndpoint endpoint, BackendKind kind, int contextTokens,
                             String backendModel, DeadlineSweep deadlines, long idleTimeoutMs, String workerId,
                             GenerateRequest request, ChunkSink sink) {
    this.client = client;
    this.endpoint = endpoint;
    this.chatResume = kind.chatResume();
    this.tokenLimit = new BackendTokenLimit(kind, request, contextTokens);
    this.watchAt = tokenLimit.watchAt();
    this.backendModel = backendModel;
    this.deadlines = deadlines;
    this.idleTimeoutMs = idleTimeoutMs;
    this.workerId = workerId;
    this.request = request;
    this.sink = sink;
    this.plainEvents = new PlainEventReader(request.kind() == RequestKind.CHAT);
  }

  public OpenAiStreamingCall start() {
    attempts++;
    heardFrom();
    client.request(endpoint.streamRequest(request.kind() == RequestKind.CHAT))
        .compose(req -> {
          httpRequest = req;
          req.putHeader(REQUEST_ID, request.requestId());
          if (request.trace().traceparent() != null) {
            req.putHeader(TRACEPARENT, request.trace().traceparent());
          }
          return req.send(JsonText.buffer(body()));
        })
        .onSuccess(this::onResponse)
        .onFailure(failure -> {
          if (!done && attempts < 2 && httpRequest != null) {
            // A pooled keep-alive connection the server had just closed: nothing was generated, send it again.
            start();
            return;
          }
          fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " could not be reached: " + failure.getMessage());
        });
    return this;
  }

  /**
   * The backend was heard from: it must send something (headers, an event) every idleTimeoutMs, or the
   * generation fails and its request is reset. A watchdog of our own, because the HTTP client's idle timeout
   * surfaces differently before and after the response head; kept in the engine's {@link DeadlineSweep}, so
   * hearing from the backend only moves a deadline.
   */
  private void heardFrom() {
    if (silence != null) {
      silence.postpone(idleTimeoutMs);
    } else if (!done) {
      silence = deadlines.watch(idleTimeoutMs, () -> {
        silence = null;
        fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " sent nothing for " + idleTimeoutMs
            + " ms (openai.idleTimeoutMs); the request was cancelled");
      });
    }
  }

  private void stopWatchdog() {
    if (silence != null) {
      silence.cancel();
      silence = null;
    }
  }

  /**
   * The body sent: the client's, streamed, with the backend's model name, the token limit where the kind needs it,
   * and the continuation of a resume.
   */
  JsonObject body() {
    // A copy of the top level only: nested values are shared with the request and never changed here (the
    // messages are copied before an assistant message is added). A deep copy was a tenth of this call's time.
    JsonObject body = new JsonObject(new LinkedHashMap<>(request.body().getMap())).put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true));
    if (backendModel != null) {
      body.put("model", backendModel);
    }
    String soFar = request.resume().text();
    if (!soFar.isEmpty()) {
      if (request.kind() == RequestKind.CHAT) {
        JsonArray messages = body.getJsonArray("messages", new JsonArray()).copy();
        messages.add(new JsonObject().put("role", "assistant").put("content", soFar));
        body.put("messages", messages);
        if (chatResume == BackendKind.ChatResume.CONTINUE_FINAL_MESSAGE) {
          body.put("continue_final_message", true).put("add_generation_prompt", false);
        }
      } else {
        Object prompt = body.getValue("prompt");
        if (prompt instanceof JsonArray list && list.size() == 1 && list.getValue(0) instanceof String only) {
          body.put("prompt", only + soFar);
        } else {
          body.put("prompt", (prompt instanceof String text ? text : "") + soFar);
        }
      }
    }
    tokenLimit.applyTo(body);
    return body;
  }

  private void onResponse(HttpClientResponse response) {
    heardFrom();
    if (done) {
      response.request().reset();
      return;
    }
    if (response.statusCode() != 200) {
      response.body().onComplete(body -> {
        GenerateError error = BackendErrors.fromStatus(response.statusCode(), body.succeeded() ? body.result() : null,
            endpoint.name(), workerId);
        failWith(error);
      });
      return;
    }
    events = new SseEventReader(this::onEvent, why -> fail(GenerateError.Code.ENGINE_FAILED, endpoint.name()
        + " sent an unreadable event stream: " + why), this::onStreamEnd);
    // Pausing the events pauses the HTTP response here; resuming resumes both.
    this.response = response;
    response.handler(buffer -> {
      if (!done) {
        heardFrom();
      }
      events.write(buffer);
      flushPending();
      if (paused) {
        response.pause();
      }
    });
    response.exceptionHandler(failure -> fail(GenerateError.Code.ENGINE_FAILED, endpoint.name()
        + " broke off the stream: " + failure.getMessage()));
    response.endHandler(v -> {
      ended = true;
      events.end();
    });
  }

  /**
   * Ends the backend's request after the worker ended the answer at the cap, unless the backend ended it too in what
   * was already read (it stopped at the same token, its end in the same read): that connection goes back to the pool
   * instead of being closed, and the next request does not pay for a new one. Checked once what this read brought is
   * handled, on the next turn of the event loop; a backend that goes on is reset then.
   */
  private void resetUnlessEnded() {
    if (httpRequest == null) {
      return;
    }
    Context context = Vertx.currentContext();
    if (context == null) {
      httpRequest.reset();
      return;
    }
    context.runOnContext(v -> {
      if (!ended) {
        httpRequest.reset();
      }
    });
  }

  private void onStreamEnd() {
    if (!done) {
      if (finishReason != null) {
        finish();
      } else {
        fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " ended the stream without a finish reason");
      }
    }
  }

  private void onEvent(byte[] event, int offset, int length) {
    int from = offset;
    int to = offset + length;
    while (from < to && isBlank(event[from])) {
      from++;
    }
    while (to > from && isBlank(event[to - 1])) {
      to--;
    }
    if (done || from == to) {
      return;
    }
    if (to - from == DONE.length && Arrays.equals(event, from, to, DONE, 0, DONE.length)) {
      finish();
      return;
    }
    PlainChunk plain = plainEvents.read(event, from, to - from);
    if (plain != null) {
      onPlain(plain);
      return;
    }
    String data = new String(event, from, to - from, StandardCharsets.UTF_8);
    JsonObject json;
    try {
      json = new JsonObject(data);
    } catch (RuntimeException notJson) {
      fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " sent an event that is not JSON: "
          + (data.length() > 200 ? data.substring(0, 200) : data));
      return;
    }
    if (json.containsKey("error")) {
      Object error = json.getValue("error");
      fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " reported an error mid-stream: "
          + (error instanceof JsonObject object ? object.getString("message", object.encode()) : error));
      return;
    }
    JsonObject reportedUsage = json.getJsonObject("usage");
    if (reportedUsage != null) {
      JsonObject details = reportedUsage.getJsonObject("prompt_tokens_details");
      usage = new Usage(reportedUsage.getInteger("prompt_tokens", 0),
          request.resume().completionTokens() + reportedUsage.getInteger("completion_tokens", 0),
          details == null ? 0 : details.getInteger("cached_tokens", 0));
    }
    JsonArray choices = json.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return;
    }
    JsonObject choice = choices.getJsonObject(0);
    String text;
    JsonObject extra = new JsonObject();
    if (request.kind() == RequestKind.CHAT) {
      JsonObject delta = choice.getJsonObject("delta", new JsonObject());
      text = delta.getString("content");
      JsonObject passed = new JsonObject();
      delta.forEach(field -> {
        if (!TEXT_FIELDS.contains(field.getKey()) && field.getValue() != null) {
          passed.put(field.getKey(), field.getValue());
        }
      });
      if (!passed.isEmpty()) {
        extra.put("delta", passed);
      }
    } else {
      text = choice.getString("text");
    }
    if (choice.getValue("logprobs") != null) {
      extra.put("logprobs", choice.getValue("logprobs"));
    }
    boolean hasText = text != null && !text.isEmpty();
    if (hasText || !extra.isEmpty()) {
      deliver(hasText ? text : "", extra.isEmpty() ? null : extra);
    }
    if (choice.getString("finish_reason") != null) {
      finishReason = choice.getString("finish_reason");
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  /** The usual event: text, a finish reason, usage; nothing to pass on beside them. */
  private void onPlain(PlainChunk plain) {
    if (plain.promptTokens() >= 0) {
      usage = new Usage(plain.promptTokens(), request.resume().completionTokens() + plain.completionTokens(),
          plain.cachedTokens());
    }
    if (!plain.choices()) {
      return;
    }
    if (plain.text() != null && !plain.text().isEmpty()) {
      deliver(plain.text(), null);
    }
    if (plain.finishReason() != null) {
      finishReason = plain.finishReason();
    }
  }

  /**
   * Plain text waits in {@link #pendingText} until the read it came in is parsed: events that arrived together
   * (a fast backend writes many per read) go on as one chunk, one event-bus message instead of one per token,
   * and nothing waits longer than the read it arrived in. Text with something beside it goes on as it is.
   */
  private void deliver(String text, JsonObject extra) {
    tokens++;
    if (extra == null) {
      pendingText.append(text);
      pendingTokens++;
    } else {
      writePending();
      sink.write(text, 1, extra);
      pauseIfSinkFull();
    }
    if (watchAt > 0 && tokens >= watchAt) {
      // The backend was not sent the cap (it would refuse one beyond its context): the worker ends it here.
      finishReason = "length";
      finish();
      resetUnlessEnded();
    }
  }

  private void flushPending() {
    if (writePending()) {
      pauseIfSinkFull();
    }
  }

  private boolean writePending() {
    if (pendingTokens == 0 || done) {
      return false;
    }
    int count = pendingTokens;
    sink.write(takePendingText(), count, null);
    return true;
  }

  /** The pending text, which is then empty (its token count too). */
  private String takePendingText() {
    String text = pendingText.toString();
    pendingText.setLength(0);
    pendingTokens = 0;
    return text;
  }

  private void pauseIfSinkFull() {
    if (sink.writeQueueFull() && events != null && !paused) {
      paused = true;
      // Our own backpressure is not the backend's silence.
      stopWatchdog();
      events.pause();
      response.pause();
      // A sink may signal drain from another thread; the event stream and the HTTP response live on ours.
      Context context = Vertx.currentContext();
      sink.drainHandler(() -> context.runOnContext(v -> {
        if (!done && paused) {
          paused = false;
          heardFrom();
          events.resume();
          flushPending();
          if (!paused) {
            response.resume();
          }
        }
      }));
    }
  }

  private void finish() {
    if (done) {
      return;
    }
    done = true;
    stopWatchdog();
    Usage counted = usage != null ? usage
        : new Usage(0, request.resume().completionTokens() + tokens);
    int count = pendingTokens;
    sink.end(takePendingText(), count, finishReason != null ? finishReason : "stop", counted);
  }

  private void fail(GenerateError.Code code, String message) {
    failWith(GenerateError.of(code, message, workerId));
  }

  private void failWith(GenerateError error) {
    if (done) {
      return;
    }
    // What the backend generated before it failed goes on first: a resume elsewhere continues after it.
    writePending();
    done = true;
    stopWatchdog();
    if (httpRequest != null) {
      httpRequest.reset();
    }
    sink.fail(error);
  }

  @Override
  public void cancel() {
    if (done) {
      return;
    }
    done = true;
    stopWatchdog();
    if (httpRequest != null) {
      httpRequest.reset();
    }
  }
}
