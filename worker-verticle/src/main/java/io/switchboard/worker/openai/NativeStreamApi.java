package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.Usage;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;

/**
 * A {@link StreamingCall} passed through in the client's own dialect: the request's {@link NativeForm} body goes to
 * the backend's {@code /v1/responses} or {@code /v1/messages} as the client wrote it, with the backend's model name,
 * {@code stream: true} and the token limit ({@link BackendTokenLimit}, in the dialect's field:
 * {@code max_output_tokens} or {@code max_tokens}); its events ({@link ResponsesEventReader} or
 * {@link MessagesEventReader}) become the same chunks a chat stream makes: text as text, tool calls and reasoning as
 * the chunk's extra in OpenAI chat delta shape, usage and the finish reason on the last chunk. Never used for a
 * resumed attempt: continuing a partial answer goes through chat.
 */
public final class NativeStreamApi implements StreamApi {

  private final BackendEndpoint endpoint;
  private final NativeForm form;
  private final BackendTokenLimit tokenLimit;
  private final String backendModel;
  private final JsonObject body;
  /** What the prompt counts at 4 characters a token, for a backend that reports no prompt tokens. */
  private final int estimatedPromptTokens;

  /**
   * @param kind          the backend's kind: where its token limit goes
   * @param contextTokens the model's context in tokens where the worker knows it, else 0
   * @param backendModel  the backend's name of the requested model; null keeps the client's
   */
  public NativeStreamApi(BackendEndpoint endpoint, BackendKind kind, int contextTokens, String backendModel,
                         GenerateRequest request) {
    this.endpoint = endpoint;
    this.form = request.nativeToServe();
    if (form == null) {
      throw new IllegalArgumentException("a native call needs a request with a native form and no resume");
    }
    this.tokenLimit = new BackendTokenLimit(kind, request, contextTokens);
    this.backendModel = backendModel;
    this.estimatedPromptTokens = estimatedPromptTokens(request.prompt());
    // Built once: the Responses reader needs the limit it carries, and a second attempt sends the same.
    this.body = buildBody();
  }

  /**
   * The prompt's tokens at 4 characters a token (at least 1). llama-server's Messages stream now and then reports a
   * message_start usage of 0 input and 0 cached tokens (AgentSdkIT saw it once in a fresh-clone run); usage that says
   * the prompt was empty would under-charge a key's token budget and mislead the metrics.
   */
  static int estimatedPromptTokens(String prompt) {
    return prompt == null ? 1 : Math.max(1, (prompt.length() + 3) / 4);
  }

  /** The dialect's field for the completion-token limit. */
  static String limitField(String dialect) {
    return NativeForm.MESSAGES.equals(dialect) ? "max_tokens" : "max_output_tokens";
  }

  /** The body sent: the client's, streamed, with the backend's model name and the token limit. */
  private JsonObject buildBody() {
    JsonObject sent = new JsonObject(new LinkedHashMap<>(form.body().getMap())).put("stream", true);
    if (backendModel != null) {
      sent.put("model", backendModel);
    }
    tokenLimit.applyTo(sent, limitField(form.dialect()));
    return sent;
  }

  @Override
  public RequestOptions request() {
    return endpoint.request(HttpMethod.POST, form.path())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.ACCEPT, "text/event-stream");
  }

  @Override
  public JsonObject body() {
    return body;
  }

  @Override
  public int watchAt() {
    return tokenLimit.watchAt();
  }

  @Override
  public SseEventReader.DataHandler events(Events out) {
    NativeStream.Reader reader = NativeForm.MESSAGES.equals(form.dialect()) ? new MessagesEventReader()
        : new ResponsesEventReader(body.getValue(limitField(form.dialect())) instanceof Number sent
            ? sent.intValue() : 0);
    NativeStream findings = new Findings(out);
    return (bytes, offset, length) -> read(bytes, offset, length, reader, findings, out);
  }

  @Override
  public String errorSource() {
    return endpoint.name() + " (" + form.path() + ")";
  }

  @Override
  public String silenceMessage(long idleTimeoutMs) {
    return endpoint.name() + " sent nothing for " + idleTimeoutMs + " ms on " + form.path()
        + "; the request was cancelled";
  }

  @Override
  public String unfinishedMessage() {
    return endpoint.name() + " ended the " + form.dialect() + " stream before it said how the answer ended";
  }

  private void read(byte[] bytes, int offset, int length, NativeStream.Reader reader, NativeStream findings,
                    Events out) {
    String data = new String(bytes, offset, length, StandardCharsets.UTF_8).strip();
    if (data.isEmpty() || data.equals("[DONE]")) {
      return;
    }
    JsonObject event;
    try {
      event = new JsonObject(data);
    } catch (RuntimeException notJson) {
      out.notJson(data);
      return;
    }
    reader.read(event, findings);
  }

  /** The dialect reader's findings, told to the call in chat terms. */
  private final class Findings implements NativeStream {

    private final Events out;

    Findings(Events out) {
      this.out = out;
    }

    @Override
    public void text(String text) {
      out.token(text, null);
    }

    @Override
    public void delta(JsonObject delta) {
      out.token("", new JsonObject().put("delta", delta));
    }

    @Override
    public void usage(int promptTokens, int completionTokens, int cachedTokens) {
      out.usage(new Usage(promptTokens == 0 && cachedTokens == 0 ? estimatedPromptTokens : promptTokens,
          completionTokens, cachedTokens));
    }

    @Override
    public void finish(String reason) {
      out.finishReason(reason);
      out.finish(); // what the backend still sends (message_stop, the end) is read and dropped
    }

    @Override
    public void failed(GenerateError.Code code, String message) {
      out.fail(code, endpoint.name() + ": " + message);
    }
  }
}
