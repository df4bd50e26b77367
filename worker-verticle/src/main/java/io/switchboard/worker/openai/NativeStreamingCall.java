package io.switchboard.worker.openai;

import io.switchboard.protocol.DeadlineSweep;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.JsonText;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;

/**
 * One generation passed through in the client's own dialect: the request's {@link NativeForm} body goes to the
 * backend's {@code /v1/responses} or {@code /v1/messages} as the client wrote it, with the backend's model name,
 * {@code stream: true} and the token limit ({@link BackendTokenLimit}, in the dialect's field:
 * {@code max_output_tokens} or {@code max_tokens}); its event stream ({@link SseEventReader} for the framing, then
 * {@link ResponsesEventReader} or {@link MessagesEventReader}) becomes the same chunks a chat stream makes: text as
 * text, tool calls and reasoning as the chunk's extra in OpenAI chat delta shape, usage and the finish reason on the
 * last chunk. Backpressure, the idle watchdog, the one retry of a request that found a closed keep-alive connection,
 * and the mapping of HTTP errors ({@link BackendErrors}) are as in {@link OpenAiStreamingCall}. Never used for a
 * resumed attempt: continuing a partial answer goes through chat.
 */
public final class NativeStreamingCall implements Generation {

  private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final CharSequence TRACEPARENT = HttpHeaders.createOptimized("traceparent");

  private final HttpClient client;
  private final BackendEndpoint endpoint;
  private final NativeForm form;
  private final BackendTokenLimit tokenLimit;
  private final int watchAt;
  private final String backendModel;
  private final DeadlineSweep deadlines;
  private final long idleTimeoutMs;
  private final String workerId;
  private final GenerateRequest request;
  private final ChunkSink sink;
  private final JsonObject body;
  private final NativeStream.Reader reader;
  private final Events events = new Events();
  private HttpClientRequest httpRequest;
  private SseEventReader sse;
  private HttpClientResponse response;
  private boolean paused;
  private DeadlineSweep.Deadline silence;
  private boolean done;
  private int attempts;
  private String finishReason;
  private Usage usage;
  private int tokens;
  private final StringBuilder pendingText = new StringBuilder();
  private int pendingTokens;

  /**
   * @param kind          the backend's kind: where its token limit goes
   * @param contextTokens the model's context in tokens where the worker knows it, else 0
   * @param backendModel  the backend's name of the requested model; null keeps the client's
   */
  public NativeStreamingCall(HttpClient client, BackendEndpoint endpoint, BackendKind kind, int contextTokens,
                             String backendModel, DeadlineSweep deadlines, long idleTimeoutMs, String workerId,
                             GenerateRequest request, ChunkSink sink) {
    this.client = client;
    this.endpoint = endpoint;
    this.form = request.nativeToServe();
    if (form == null) {
      throw new IllegalArgumentException("a native call needs a request with a native form and no resume");
    }
    this.tokenLimit = new BackendTokenLimit(kind, request, contextTokens);
    this.watchAt = tokenLimit.watchAt();
    this.backendModel = backendModel;
    this.deadlines = deadlines;
    this.idleTimeoutMs = idleTimeoutMs;
    this.workerId = workerId;
    this.request = request;
    this.sink = sink;
    this.body = body();
    String limitField = limitField(form.dialect());
    this.reader = NativeForm.MESSAGES.equals(form.dialect()) ? new MessagesEventReader()
        : new ResponsesEventReader(body.getValue(limitField) instanceof Number sent ? sent.intValue() : 0);
  }

  /** The dialect's field for the completion-token limit. */
  static String limitField(String dialect) {
    return NativeForm.MESSAGES.equals(dialect) ? "max_tokens" : "max_output_tokens";
  }

  /** The body sent: the client's, streamed, with the backend's model name and the token limit. */
  JsonObject body() {
    JsonObject sent = new JsonObject(new LinkedHashMap<>(form.body().getMap())).put("stream", true);
    if (backendModel != null) {
      sent.put("model", backendModel);
    }
    tokenLimit.applyTo(sent, limitField(form.dialect()));
    return sent;
  }

  public NativeStreamingCall start() {
    attempts++;
    heardFrom();
    RequestOptions post = endpoint.request(HttpMethod.POST, form.path())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.ACCEPT, "text/event-stream");
    client.request(post)
        .compose(req -> {
          httpRequest = req;
          req.putHeader(REQUEST_ID, request.requestId());
          if (request.trace().traceparent() != null) {
            req.putHeader(TRACEPARENT, request.trace().traceparent());
          }
          return req.send(JsonText.buffer(body));
        })
        .onSuccess(this::onResponse)
        .onFailure(failure -> {
          if (!done && attempts < 2 && httpRequest != null) {
            start(); // a pooled keep-alive connection the server had just closed: nothing was generated
            return;
          }
          fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " could not be reached: " + failure.getMessage());
        });
    return this;
  }

  private void heardFrom() {
    if (silence != null) {
      silence.postpone(idleTimeoutMs);
    } else if (!done) {
      silence = deadlines.watch(idleTimeoutMs, () -> {
        silence = null;
        fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " sent nothing for " + idleTimeoutMs
            + " ms on " + form.path() + "; the request was cancelled");
      });
    }
  }

  private void stopWatchdog() {
    if (silence != null) {
      silence.cancel();
      silence = null;
    }
  }

  private void onResponse(HttpClientResponse response) {
    heardFrom();
    if (done) {
      response.request().reset();
      return;
    }
    if (response.statusCode() != 200) {
      response.body().onComplete(body -> failWith(BackendErrors.fromStatus(response.statusCode(),
          body.succeeded() ? body.result() : null, endpoint.name() + " (" + form.path() + ")", workerId)));
      return;
    }
    sse = new SseEventReader(this::onEvent, why -> fail(GenerateError.Code.ENGINE_FAILED, endpoint.name()
        + " sent an unreadable event stream: " + why), this::onStreamEnd);
    this.response = response;
    response.handler(buffer -> {
      if (!done) {
        heardFrom();
      }
      sse.write(buffer);
      flushPending();
      if (paused) {
        response.pause();
      }
    });
    response.exceptionHandler(failure -> fail(GenerateError.Code.ENGINE_FAILED, endpoint.name()
        + " broke off the stream: " + failure.getMessage()));
    response.endHandler(v -> sse.end());
  }

  private void onStreamEnd() {
    if (!done) {
      if (finishReason != null) {
        finish();
      } else {
        fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " ended the " + form.dialect()
            + " stream before it said how the answer ended");
      }
    }
  }

  private void onEvent(byte[] bytes, int offset, int length) {
    if (done) {
      return;
    }
    String data = new String(bytes, offset, length, StandardCharsets.UTF_8).strip();
    if (data.isEmpty() || data.equals("[DONE]")) {
      return;
    }
    JsonObject event;
    try {
      event = new JsonObject(data);
    } catch (RuntimeException notJson) {
      fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " sent an event that is not JSON: "
          + (data.length() > 200 ? data.substring(0, 200) : data));
      return;
    }
    reader.read(event, events);
  }

  /** The reader's findings, turned into chunks. */
  private final class Events implements NativeStream {

    @Override
    public void text(String text) {
      deliver(text, null);
    }

    @Override
    public void delta(JsonObject delta) {
      deliver("", new JsonObject().put("delta", delta));
    }

    @Override
    public void usage(int promptTokens, int completionTokens, int cachedTokens) {
      usage = new Usage(promptTokens, completionTokens, cachedTokens);
    }

    @Override
    public void finish(String reason) {
      finishReason = reason;
      NativeStreamingCall.this.finish(); // what the backend still sends (message_stop, the end) is read and dropped
    }

    @Override
    public void failed(GenerateError.Code code, String message) {
      fail(code, endpoint.name() + ": " + message);
    }
  }

  private void deliver(String text, JsonObject extra) {
    if (done) {
      return;
    }
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
      finishReason = "length";
      finish();
      if (httpRequest != null) {
        httpRequest.reset();
      }
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

  private String takePendingText() {
    String text = pendingText.toString();
    pendingText.setLength(0);
    pendingTokens = 0;
    return text;
  }

  private void pauseIfSinkFull() {
    if (sink.writeQueueFull() && sse != null && !paused) {
      paused = true;
      stopWatchdog();
      sse.pause();
      response.pause();
      Context context = Vertx.currentContext();
      sink.drainHandler(() -> context.runOnContext(v -> {
        if (!done && paused) {
          paused = false;
          heardFrom();
          sse.resume();
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
    Usage counted = usage != null ? usage : new Usage(0, tokens);
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
