package io.switchboard.gateway.dialect.messages;

import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * A Messages answer as Anthropic streams it, event by event: {@code message_start}, {@code content_block_start} of
 * the text block (index 0), {@code ping}, its {@code text_delta}s, {@code content_block_stop}; for each tool call a
 * {@code tool_use} block (its arguments as {@code input_json_delta}s); then {@code message_delta} (stop reason and
 * usage) and {@code message_stop}.
 *
 * <p>Backends stream tool calls one after the other (OpenAI's deltas carry each call's index): a call's block opens
 * at its first delta and closes when the next call or text begins. Text after a tool call opens a new text block. A
 * delta for a call whose block was closed already (no backend known does this) still goes out, as a delta of that
 * call's block index, so no argument is lost.
 */
final class MessagesStream {

  /** Where the events go. */
  interface Sink {
    void event(String name, JsonObject data);
  }

  private final String id;
  private String model;
  private final Sink sink;
  /** The open block's index, or -1 when none is open. */
  private int open = -1;
  private int nextIndex;
  /** The tool call (OpenAI index) the open block belongs to, or null for a text block. */
  private Integer openTool;
  private final Map<Integer, Integer> blockOfTool = new HashMap<>();

  MessagesStream(String id, String model, Sink sink) {
    this.id = id;
    this.model = model;
    this.sink = sink;
  }

  /** Names {@code model} in the stream's message_start: the model that served the answer. */
  void servedBy(String model) {
    this.model = model;
  }

  void start() {
    sink.event("message_start", new JsonObject().put("type", "message_start")
        .put("message", MessagesFormat.message(id, model)
            .put("usage", new JsonObject().put("input_tokens", 0).put("output_tokens", 0))));
    openText();
    sink.event("ping", new JsonObject().put("type", "ping"));
  }

  void delta(String text, JsonObject extra) {
    if (text != null && !text.isEmpty()) {
      if (open < 0 || openTool != null) {
        close();
        openText();
      }
      sink.event("content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", open)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", text)));
    }
    JsonObject delta = extra == null ? null : extra.getJsonObject("delta");
    if (delta != null && delta.getValue("tool_calls") instanceof JsonArray calls) {
      for (int i = 0; i < calls.size(); i++) {
        if (calls.getValue(i) instanceof JsonObject call) {
          toolDelta(call, i);
        }
      }
    }
  }

  private void toolDelta(JsonObject call, int position) {
    int toolIndex = call.getInteger("index", position);
    JsonObject function = call.getJsonObject("function", new JsonObject());
    Integer block = blockOfTool.get(toolIndex);
    if (block == null) {
      close();
      block = nextIndex++;
      blockOfTool.put(toolIndex, block);
      open = block;
      openTool = toolIndex;
      sink.event("content_block_start", new JsonObject().put("type", "content_block_start").put("index", block)
          .put("content_block", new JsonObject().put("type", "tool_use")
              .put("id", call.getString("id", MessagesFormat.toolId(id, toolIndex)))
              .put("name", function.getString("name", ""))
              .put("input", new JsonObject())));
    }
    String arguments = function.getString("arguments");
    if (arguments != null && !arguments.isEmpty()) {
      sink.event("content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", block)
          .put("delta", new JsonObject().put("type", "input_json_delta").put("partial_json", arguments)));
    }
  }

  void finish(String finishReason, Usage usage) {
    close();
    JsonObject counts = MessagesFormat.usage(usage);
    sink.event("message_delta", new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject().put("stop_reason", MessagesFormat.stopReason(finishReason,
            !blockOfTool.isEmpty())).putNull("stop_sequence"))
        .put("usage", counts));
    sink.event("message_stop", new JsonObject().put("type", "message_stop"));
  }

  private void openText() {
    open = nextIndex++;
    openTool = null;
    sink.event("content_block_start", new JsonObject().put("type", "content_block_start").put("index", open)
        .put("content_block", new JsonObject().put("type", "text").put("text", "")));
  }

  private void close() {
    if (open >= 0) {
      sink.event("content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", open));
      open = -1;
      openTool = null;
    }
  }
}
