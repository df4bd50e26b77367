package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.Usage;
import io.switchboard.worker.engine.ChunkSink;
import io.switchboard.worker.engine.Generation;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

/**
 * One {@code POST /v1/embeddings} against an OpenAI-compatible server: the client's body goes through with the
 * backend's model name, and the whole answer comes back as the single final chunk's extra
 * ({@code {"result": ...}}); the gateway puts the client's model name back. Failures are typed like a
 * generation's; a cancel resets the request.
 */
public final class OpenAiEmbeddingCall implements Generation {

  private final HttpClient client;
  private final BackendEndpoint endpoint;
  private final String backendModel;
  private final long idleTimeoutMs;
  private final String workerId;
  private final GenerateRequest request;
  private final ChunkSink sink;
  private HttpClientRequest httpRequest;
  private boolean done;

  public OpenAiEmbeddingCall(HttpClient client, BackendEndpoint endpoint, String backendModel, long idleTimeoutMs,
                             String workerId, GenerateRequest request, ChunkSink sink) {
    this.client = client;
    this.endpoint = endpoint;
    this.backendModel = backendModel;
    this.idleTimeoutMs = idleTimeoutMs;
    this.workerId = workerId;
    this.request = request;
    this.sink = sink;
  }

  public OpenAiEmbeddingCall start() {
    JsonObject body = request.body().copy();
    if (backendModel != null) {
      body.put("model", backendModel);
    }
    client.request(endpoint.request(HttpMethod.POST, "/v1/embeddings").putHeader("content-type", "application/json")
            .putHeader("x-request-id", request.requestId()))
        .compose(req -> {
          httpRequest = req;
          req.idleTimeout(idleTimeoutMs);
          // Jackson, as for a chat's body (StreamingCall): inputs are long strings.
          return req.send(body.toBuffer());
        })
        .compose(response -> response.body().map(answer -> {
          onAnswer(response.statusCode(), answer);
          return null;
        }))
        .onFailure(failure -> fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, endpoint.name()
            + " could not be reached or broke off: " + failure.getMessage(), workerId)));
    return this;
  }

  private void onAnswer(int status, Buffer answer) {
    if (status != 200) {
      fail(BackendErrors.fromStatus(status, answer, endpoint.name(), workerId));
      return;
    }
    JsonObject result;
    try {
      result = new JsonObject(answer);
    } catch (RuntimeException notJson) {
      fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " answered /v1/embeddings with "
          + "something that is not JSON: " + BackendErrors.excerpt(answer), workerId));
      return;
    }
    if (result.getJsonArray("data") == null) {
      fail(GenerateError.of(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " answered /v1/embeddings "
          + "without a 'data' list: " + BackendErrors.excerpt(answer), workerId));
      return;
    }
    if (done) {
      return;
    }
    done = true;
    JsonObject reported = result.getJsonObject("usage", new JsonObject());
    int promptTokens = reported.getInteger("prompt_tokens", reported.getInteger("total_tokens", 0));
    sink.end("", 0, "stop", new Usage(promptTokens, 0), new JsonObject().put("result", result));
  }

  private void fail(GenerateError error) {
    if (done) {
      return;
    }
    done = true;
    sink.fail(error);
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
