package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.Usage;
import io.switchboard.runtime.time.DeadlineSweep;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;

/**
 * One streaming generation against a backend, in whichever API its {@link StreamApi} speaks (OpenAI chat and
 * completions: {@link OpenAiStreamApi}; Responses and Messages passed through: {@link NativeStreamApi}). The body
 * is POSTed with the request id and trace context; a request that found a pooled connection closed is sent once
 * more; an HTTP error becomes a typed error ({@link BackendErrors}); the event stream ({@link SseEventReader}) is
 * read by the API's reader, and the sink's backpressure pauses it, which pauses the HTTP response. Every failure
 * ends the sink with a typed error naming the backend; a cancel resets the HTTP request, which closes the
 * backend's request.
 */
public final class StreamingCall implements Generation {

  // Header names encoded once, not on every request.
  private static final CharSequence REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
  private static final CharSequence TRACEPARENT = HttpHeaders.createOptimized("traceparent");

  private final HttpClient client;
  private final BackendEndpoint endpoint;
  private final StreamApi api;
  /** Streamed tokens of this part at which the worker ends the stream itself ("length"); 0 = the backend stops. */
  private final int watchAt;
  private final DeadlineSweep deadlines;
  private final long idleTimeoutMs;
  private final String workerId;
  private final GenerateRequest request;
  private final ChunkSink sink;
  private final SseEventReader.DataHandler apiEvents;
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
  /** Plain text read but not yet written: the text of the events that came in one read (see token). */
  private final StringBuilder pendingText = new StringBuilder();
  private int pendingTokens;

  /**
   * @param api           the API the backend is asked in, made for this request
   * @param deadlines     the engine's timeouts, where this call's idle watchdog is kept
   * @param idleTimeoutMs how long the backend may send nothing (before its first byte, or between events)
   */
  public StreamingCall(HttpClient client, BackendEndpoint endpoint, StreamApi api, DeadlineSweep deadlines,
                       long idleTimeoutMs, String workerId, GenerateRequest request, ChunkSink sink) {
    this.client = client;
    this.endpoint = endpoint;
    this.api = api;
    this.watchAt = api.watchAt();
    this.deadlines = deadlines;
    this.idleTimeoutMs = idleTimeoutMs;
    this.workerId = workerId;
    this.request = request;
    this.sink = sink;
    this.apiEvents = api.events(new SinkEvents());
  }

  public StreamingCall start() {
    attempts++;
    heardFrom();
    client.request(api.request())
        .compose(req -> {
          httpRequest = req;
          req.putHeader(REQUEST_ID, request.requestId());
          if (request.trace().traceparent() != null) {
            req.putHeader(TRACEPARENT, request.trace().traceparent());
          }
          // Jackson, not JsonText: a request body is mostly long strings, which Jackson writes faster
          // (load-tests/bin/json-bench, request-20-turns).
          return req.send(api.body().toBuffer());
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
        fail(GenerateError.Code.ENGINE_FAILED, api.silenceMessage(idleTimeoutMs));
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
          body.succeeded() ? body.result() : null, api.errorSource(), workerId)));
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

  private void onEvent(byte[] event, int offset, int length) {
    if (!done) {
      apiEvents.event(event, offset, length);
    }
  }

  private void onStreamEnd() {
    if (!done) {
      if (finishReason != null) {
        finish();
      } else {
        fail(GenerateError.Code.ENGINE_FAILED, api.unfinishedMessage());
      }
    }
  }

  /** What the API's reader found, written to the sink. */
  private final class SinkEvents implements StreamApi.Events {

    /**
     * Plain text waits in {@link StreamingCall#pendingText} until the read it came in is parsed: events that
     * arrived together (a fast backend writes many per read) go on as one chunk, one event-bus message instead of
     * one per token, and nothing waits longer than the read it arrived in. Text with something beside it goes on as
     * it is.
     */
    @Override
    public void token(String text, JsonObject extra) {
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
        // The backend was not sent the cap (it would refuse one beyond its context): the worker ends it here.
        finishReason = "length";
        StreamingCall.this.finish();
        resetUnlessEnded();
      }
    }

    @Override
    public void usage(Usage reported) {
      usage = reported;
    }

    @Override
    public void finishReason(String reason) {
      finishReason = reason;
    }

    @Override
    public void finish() {
      StreamingCall.this.finish();
    }

    @Override
    public void fail(GenerateError.Code code, String message) {
      StreamingCall.this.fail(code, message);
    }

    @Override
    public void notJson(String data) {
      StreamingCall.this.fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " sent an event that is not JSON: "
          + (data.length() > 200 ? data.substring(0, 200) : data));
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
