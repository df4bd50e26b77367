package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;

/**
 * One generation against an OpenAI-compatible server (llama-server, vLLM, ...): the client's body goes through
 * with {@code stream: true} and usage requested, the server's SSE deltas go to the sink, and the sink's
 * backpressure pauses the HTTP response. A text generated earlier by another worker is continued: a chat gets
 * it as a final assistant message to extend (llama-server's assistant prefill), a completion as prompt suffix.
 * Every failure ends the sink with a typed error naming the backend; a cancel resets the HTTP request.
 */
public final class OpenAiStreamingCall implements Generation {

  private final HttpClient client;
  private final RequestOptions target;
  private final String backendName;
  private final String workerId;
  private final GenerateRequest request;
  private final ChunkSink sink;
  private HttpClientRequest httpRequest;
  private HttpClientResponse response;
  private RecordParser lines;
  private boolean done;
  private int attempts;
  private String finishReason;
  private Usage usage;
  private int tokens;

  /**
   * @param target      host, port and base path of the server (the path gets /v1/chat/completions or /v1/completions)
   * @param backendName how errors name the server, e.g. "llama-server at 127.0.0.1:8081"
   */
  public OpenAiStreamingCall(HttpClient client, RequestOptions target, String backendName, String workerId,
                             GenerateRequest request, ChunkSink sink) {
    this.client = client;
    this.target = target;
    this.backendName = backendName;
    this.workerId = workerId;
    this.request = request;
    this.sink = sink;
  }

  public OpenAiStreamingCall start() {
    attempts++;
    String path = request.kind() == RequestKind.CHAT ? "/v1/chat/completions" : "/v1/completions";
    RequestOptions options = new RequestOptions(target).setMethod(HttpMethod.POST)
        .setURI(stripSlash(target.getURI()) + path).putHeader("content-type", "application/json")
        .putHeader("accept", "text/event-stream");
    if (request.trace().traceparent() != null) {
      options.putHeader("traceparent", request.trace().traceparent());
    }
    options.putHeader("x-request-id", request.requestId());
    client.request(options)
        .compose(req -> {
          httpRequest = req;
          return req.send(body().toBuffer());
        })
        .onSuccess(this::onResponse)
        .onFailure(failure -> {
          if (!done && attempts < 2) {
            // A pooled keep-alive connection the server had just closed: nothing was generated, send it again.
            start();
            return;
          }
          fail(GenerateError.Code.ENGINE_FAILED, backendName + " could not be reached: " + failure.getMessage());
        });
    return this;
  }

  private static String stripSlash(String uri) {
    return uri == null || uri.equals("/") ? "" : uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
  }

  JsonObject body() {
    JsonObject body = request.body().copy().put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true));
    String soFar = request.resume().text();
    if (!soFar.isEmpty()) {
      if (request.kind() == RequestKind.CHAT) {
        JsonArray messages = body.getJsonArray("messages", new JsonArray()).copy();
        messages.add(new JsonObject().put("role", "assistant").put("content", soFar));
        body.put("messages", messages);
      } else {
        body.put("prompt", body.getString("prompt", "") + soFar);
      }
      if (request.sampling().maxTokens() != null) {
        body.put("max_tokens", Math.max(1, request.sampling().maxTokens() - request.resume().completionTokens()));
      }
    }
    return body;
  }

  private void onResponse(HttpClientResponse response) {
    this.response = response;
    if (done) {
      response.request().reset();
      return;
    }
    if (response.statusCode() != 200) {
      response.body().onComplete(body -> {
        String text = body.succeeded() ? errorMessage(body.result()) : "(no body)";
        int status = response.statusCode();
        GenerateError.Code code = status == 400 || status == 422 ? GenerateError.Code.INVALID_REQUEST
            : status == 503 || status == 429 ? GenerateError.Code.WORKER_BUSY : GenerateError.Code.ENGINE_FAILED;
        fail(code, backendName + " answered HTTP " + status + ": " + text);
      });
      return;
    }
    // Pausing the parser, not only the response: it may hold many buffered events of one network read.
    lines = RecordParser.newDelimited("\n", response);
    lines.handler(this::onLine);
    lines.exceptionHandler(failure -> fail(GenerateError.Code.ENGINE_FAILED, backendName
        + " broke off the stream: " + failure.getMessage()));
    lines.endHandler(v -> {
      if (!done) {
        if (finishReason != null) {
          finish();
        } else {
          fail(GenerateError.Code.ENGINE_FAILED, backendName + " ended the stream without a finish reason");
        }
      }
    });
  }

  private static String errorMessage(Buffer body) {
    try {
      JsonObject json = new JsonObject(body);
      JsonObject error = json.getJsonObject("error");
      return error != null ? error.getString("message", error.encode()) : json.encode();
    } catch (RuntimeException notJson) {
      String text = body.toString();
      return text.length() > 300 ? text.substring(0, 300) : text;
    }
  }

  private void onLine(Buffer line) {
    if (done) {
      return;
    }
    String text = line.toString().trim();
    if (!text.startsWith("data:")) {
      return;
    }
    String data = text.substring(5).trim();
    if (data.equals("[DONE]")) {
      finish();
      return;
    }
    JsonObject event;
    try {
      event = new JsonObject(data);
    } catch (RuntimeException notJson) {
      fail(GenerateError.Code.ENGINE_FAILED, backendName + " sent an event that is not JSON: "
          + (data.length() > 200 ? data.substring(0, 200) : data));
      return;
    }
    if (event.containsKey("error")) {
      fail(GenerateError.Code.ENGINE_FAILED, backendName + " reported an error mid-stream: "
          + event.getValue("error"));
      return;
    }
    JsonObject reportedUsage = event.getJsonObject("usage");
    if (reportedUsage != null) {
      usage = new Usage(reportedUsage.getInteger("prompt_tokens", 0),
          request.resume().completionTokens() + reportedUsage.getInteger("completion_tokens", 0));
    }
    JsonArray choices = event.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return;
    }
    JsonObject choice = choices.getJsonObject(0);
    String delta = request.kind() == RequestKind.CHAT
        ? choice.getJsonObject("delta", new JsonObject()).getString("content")
        : choice.getString("text");
    if (delta != null && !delta.isEmpty()) {
      tokens++;
      sink.write(delta, 1);
      if (sink.writeQueueFull()) {
        lines.pause();
        sink.drainHandler(() -> {
          if (!done) {
            lines.resume();
          }
        });
      }
    }
    if (choice.getString("finish_reason") != null) {
      finishReason = choice.getString("finish_reason");
    }
  }

  private void finish() {
    if (done) {
      return;
    }
    done = true;
    Usage counted = usage != null ? usage
        : new Usage(0, request.resume().completionTokens() + tokens);
    sink.end("", 0, finishReason != null ? finishReason : "stop", counted);
  }

  private void fail(GenerateError.Code code, String message) {
    if (done) {
      return;
    }
    done = true;
    if (httpRequest != null) {
      httpRequest.reset();
    }
    sink.fail(GenerateError.of(code, message, workerId));
  }

  @Override
  public void cancel() {
    if (done) {
      return;
    }
    done = true;
    if (httpRequest != null) {
      httpRequest.reset();
    }
  }
}
