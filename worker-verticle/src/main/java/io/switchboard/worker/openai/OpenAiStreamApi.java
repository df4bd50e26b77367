package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.Usage;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Set;

/**
 * A {@link StreamingCall} in the OpenAI chat completions or completions API, which every OpenAI-compatible server
 * (llama-server, vLLM, SGLang, ...) speaks: the client's body goes through as given (tools, response_format,
 * logprobs and whatever else the backend supports) with {@code stream: true}, usage requested and the model renamed
 * to the backend's name; the server's events are read from the bytes, most of them without a JSON tree
 * ({@link PlainChunk}). Text goes on as text; tool calls, reasoning and logprobs go beside it as the chunk's extra.
 * A text generated earlier by another worker is continued the way the backend kind does it.
 */
public final class OpenAiStreamApi implements StreamApi {

  /** Delta fields that are the text itself; every other delta field is passed through. */
  private static final Set<String> TEXT_FIELDS = Set.of("content", "role");
  /** The data of the event that ends an OpenAI stream. */
  private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

  private final BackendEndpoint endpoint;
  private final BackendKind.ChatResume chatResume;
  private final BackendTokenLimit tokenLimit;
  private final String backendModel;
  private final GenerateRequest request;
  private final boolean chat;

  /**
   * @param kind          the backend's kind: how it continues an answer, where its token limit goes
   * @param contextTokens the model's context in tokens where the worker knows it (bounds a request without
   *                      max_tokens), else 0
   * @param backendModel  the backend's name of the requested model (aliases rename); null keeps the client's
   */
  public OpenAiStreamApi(BackendEndpoint endpoint, BackendKind kind, int contextTokens, String backendModel,
                         GenerateRequest request) {
    this.endpoint = endpoint;
    this.chatResume = kind.chatResume();
    this.tokenLimit = new BackendTokenLimit(kind, request, contextTokens);
    this.backendModel = backendModel;
    this.request = request;
    this.chat = request.kind() == RequestKind.CHAT;
  }

  @Override
  public RequestOptions request() {
    return endpoint.streamRequest(chat);
  }

  /**
   * The body sent: the client's, streamed, with the backend's model name, the token limit where the kind needs it,
   * and the continuation of a resume.
   */
  @Override
  public JsonObject body() {
    // A copy of the top level only: nested values are shared with the request and never changed here (the
    // messages are copied before an assistant message is added). A deep copy was a tenth of this call's time.
    JsonObject body = new JsonObject(new LinkedHashMap<>(request.body().getMap())).put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true));
    if (backendModel != null) {
      body.put("model", backendModel);
    }
    String soFar = request.resume().text();
    if (!soFar.isEmpty()) {
      if (chat) {
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

  @Override
  public int watchAt() {
    return tokenLimit.watchAt();
  }

  @Override
  public SseEventReader.DataHandler events(Events out) {
    PlainEventReader plainEvents = new PlainEventReader(chat);
    return (event, offset, length) -> read(event, offset, length, plainEvents, out);
  }

  @Override
  public String errorSource() {
    return endpoint.name();
  }

  @Override
  public String silenceMessage(long idleTimeoutMs) {
    return endpoint.name() + " sent nothing for " + idleTimeoutMs + " ms (openai.idleTimeoutMs); the request was"
        + " cancelled";
  }

  @Override
  public String unfinishedMessage() {
    return endpoint.name() + " ended the stream without a finish reason";
  }

  private void read(byte[] event, int offset, int length, PlainEventReader plainEvents, Events out) {
    int from = offset;
    int to = offset + length;
    while (from < to && isBlank(event[from])) {
      from++;
    }
    while (to > from && isBlank(event[to - 1])) {
      to--;
    }
    if (from == to) {
      return;
    }
    if (to - from == DONE.length && Arrays.equals(event, from, to, DONE, 0, DONE.length)) {
      out.finish();
      return;
    }
    PlainChunk plain = plainEvents.read(event, from, to - from);
    if (plain != null) {
      readPlain(plain, out);
      return;
    }
    String data = new String(event, from, to - from, StandardCharsets.UTF_8);
    JsonObject json;
    try {
      json = new JsonObject(data);
    } catch (RuntimeException notJson) {
      out.notJson(data);
      return;
    }
    if (json.containsKey("error")) {
      Object error = json.getValue("error");
      out.fail(GenerateError.Code.ENGINE_FAILED, endpoint.name() + " reported an error mid-stream: "
          + (error instanceof JsonObject object ? object.getString("message", object.encode()) : error));
      return;
    }
    JsonObject reportedUsage = json.getJsonObject("usage");
    if (reportedUsage != null) {
      JsonObject details = reportedUsage.getJsonObject("prompt_tokens_details");
      out.usage(new Usage(reportedUsage.getInteger("prompt_tokens", 0),
          request.resume().completionTokens() + reportedUsage.getInteger("completion_tokens", 0),
          details == null ? 0 : details.getInteger("cached_tokens", 0)));
    }
    JsonArray choices = json.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return;
    }
    JsonObject choice = choices.getJsonObject(0);
    String text;
    JsonObject extra = new JsonObject();
    if (chat) {
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
      out.token(hasText ? text : "", extra.isEmpty() ? null : extra);
    }
    if (choice.getString("finish_reason") != null) {
      out.finishReason(choice.getString("finish_reason"));
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  /** The usual event: text, a finish reason, usage; nothing to pass on beside them. */
  private void readPlain(PlainChunk plain, Events out) {
    if (plain.promptTokens() >= 0) {
      out.usage(new Usage(plain.promptTokens(), request.resume().completionTokens() + plain.completionTokens(),
          plain.cachedTokens()));
    }
    if (!plain.choices()) {
      return;
    }
    if (plain.text() != null && !plain.text().isEmpty()) {
      out.token(plain.text(), null);
    }
    if (plain.finishReason() != null) {
      out.finishReason(plain.finishReason());
    }
  }
}
