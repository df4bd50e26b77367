package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;

/**
 * What a backend's native event stream (Responses, Messages) says, in the terms of a chat stream: the worker turns it
 * into the same {@link io.switchboard.protocol.StreamChunk}s a chat stream makes, so the gateway's writers, migration
 * and metrics work unchanged. A reader ({@link ResponsesEventReader}, {@link MessagesEventReader}) calls it for each
 * event it reads.
 */
interface NativeStream {

  /** Answer text. */
  void text(String text);

  /**
   * Something beside the text, as an OpenAI chat delta: {@code tool_calls} ({@code [{index, id, type, function:
   * {name, arguments}}]}) or {@code reasoning_content}.
   */
  void delta(JsonObject delta);

  /** The token counts so far (the last call holds). */
  void usage(int promptTokens, int completionTokens, int cachedTokens);

  /** The answer ended: {@code stop}, {@code length}, {@code tool_calls} or {@code content_filter}. */
  void finish(String reason);

  /** The backend reported a failure in the stream; nothing follows. */
  void failed(GenerateError.Code code, String message);

  /** Reads one event (its data, a JSON object with a {@code type}) and tells a {@link NativeStream}. */
  interface Reader {
    void read(JsonObject event, NativeStream out);
  }

  /** A chat delta with one tool call's part. */
  static JsonObject toolCall(int index, String id, String name, String arguments) {
    JsonObject function = new JsonObject();
    if (name != null) {
      function.put("name", name);
    }
    function.put("arguments", arguments == null ? "" : arguments);
    JsonObject call = new JsonObject().put("index", index);
    if (id != null) {
      call.put("id", id).put("type", "function");
    }
    call.put("function", function);
    return new JsonObject().put("tool_calls", new io.vertx.core.json.JsonArray().add(call));
  }

  static JsonObject reasoning(String text) {
    return new JsonObject().put("reasoning_content", text);
  }
}
