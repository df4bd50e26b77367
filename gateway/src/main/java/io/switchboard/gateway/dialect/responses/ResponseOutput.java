package io.switchboard.gateway.dialect.responses;

import io.switchboard.runtime.json.JsonText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what a worker streams (text, and OpenAI chat deltas beside it: {@code reasoning_content} and
 * {@code tool_calls}) into the Responses API's output items, one after another as OpenAI sends them: an item is
 * added, its deltas follow, it is done before the next is added. Each step is told to an {@link Events} listener
 * (the stream); the items are the {@code output} of the final response either way.
 */
final class ResponseOutput {

  /**
   * Where each stream event is written: {@link #start} begins an event of a type and returns the text to append its
   * fields beside type and sequence_number to, as JSON members each after a comma ({@code ,"output_index":0}), in
   * OpenAI's order; {@link #end} ends it. Events are written as text, not built as trees: the trees were most of
   * what a streamed Responses answer cost beyond a chat one (docs/performance.md, "Dialects"); ResponseOutputTest
   * reads them back as JSON.
   */
  interface Events {
    StringBuilder start(String type);

    void end();
  }

  private enum Kind { NONE, REASONING, MESSAGE, CALL }

  private final String responseId;
  private final Events events;
  private final List<JsonObject> items = new ArrayList<>();
  /** Function-call items by the backend's tool-call index, and their arguments so far. */
  private final Map<Integer, JsonObject> calls = new HashMap<>();
  private final Map<Integer, StringBuilder> arguments = new HashMap<>();
  private final Map<Integer, Integer> callOutputIndex = new HashMap<>();
  private Kind open = Kind.NONE;
  private int openCall = -1;
  private final StringBuilder text = new StringBuilder();
  private int messages;
  /** All the answer's text and reasoning (over every message item), for the stored conversation. */
  private final StringBuilder allText = new StringBuilder();
  /** Characters of text, reasoning and arguments so far: what the closing events repeat. */
  private int chars;

  /** @param events the stream's listener, or null for a whole answer (no event is made) */
  ResponseOutput(String responseId, Events events) {
    this.responseId = responseId;
    this.events = events;
  }

  /** One piece of the answer: reasoning first, then text, then tool calls, as a chat message orders them. */
  void add(String piece, JsonObject extra) {
    JsonObject delta = extra == null ? null : extra.getJsonObject("delta");
    if (delta != null) {
      String reasoning = delta.getValue("reasoning_content") instanceof String r ? r
          : delta.getValue("reasoning") instanceof String r2 ? r2 : null;
      if (reasoning != null && !reasoning.isEmpty()) {
        openText(Kind.REASONING);
        text.append(reasoning);
        chars += reasoning.length();
        if (events != null) {
          string(string(at("response.reasoning_text.delta", currentIndex()), "item_id", openItemId())
              .append(",\"content_index\":0"), "delta", reasoning);
          events.end();
        }
      }
    }
    if (piece != null && !piece.isEmpty()) {
      openText(Kind.MESSAGE);
      text.append(piece);
      chars += piece.length();
      allText.append(piece);
      if (events != null) {
        string(string(at("response.output_text.delta", currentIndex()), "item_id", openItemId())
            .append(",\"content_index\":0"), "delta", piece).append(",\"logprobs\":[]");
        events.end();
      }
    }
    if (delta != null && delta.getValue("tool_calls") instanceof JsonArray toolCalls) {
      for (int i = 0; i < toolCalls.size(); i++) {
        if (toolCalls.getValue(i) instanceof JsonObject call) {
          toolCall(call, i);
        }
      }
    }
  }

  /** Closes the open item; an empty answer still gets its (empty) message, as OpenAI's does. */
  void finish(String messageStatus) {
    if (items.isEmpty()) {
      openText(Kind.MESSAGE);
    }
    close(messageStatus);
  }

  /** Characters of text, reasoning and arguments in the answer so far. */
  int chars() {
    return chars;
  }

  JsonArray items() {
    JsonArray output = new JsonArray();
    items.forEach(item -> output.add(item.copy()));
    return output;
  }

  /** The items as they are, not copied: for writing them out at once. */
  JsonArray itemsShared() {
    return new JsonArray(new ArrayList<Object>(items));
  }

  /** The answer as a chat assistant message (text and tool calls), for the stored conversation. */
  JsonObject assistantMessage() {
    JsonArray toolCalls = new JsonArray();
    for (JsonObject item : items) {
      if ("function_call".equals(item.getString("type"))) {
        toolCalls.add(new JsonObject().put("id", item.getString("call_id")).put("type", "function")
            .put("function", new JsonObject().put("name", item.getString("name"))
                .put("arguments", item.getString("arguments"))));
      }
    }
    JsonObject message = new JsonObject().put("role", "assistant");
    if (toolCalls.isEmpty()) {
      return message.put("content", allText.toString());
    }
    return message.put("content", allText.isEmpty() ? null : allText.toString()).put("tool_calls", toolCalls);
  }

  private void toolCall(JsonObject call, int position) {
    int index = call.getInteger("index", position);
    JsonObject function = call.getJsonObject("function", new JsonObject());
    JsonObject item = calls.get(index);
    if (item == null) {
      close("completed");
      int outputIndex = items.size();
      String callId = call.getValue("id") instanceof String id && !id.isEmpty() ? id
          : "call_" + responseId.substring("resp_".length()) + "_" + index;
      item = new JsonObject().put("id", "fc_" + responseId.substring("resp_".length()) + "_" + index)
          .put("type", "function_call").put("status", "in_progress")
          .put("arguments", "").put("call_id", callId)
          .put("name", function.getValue("name") instanceof String name ? name : "");
      items.add(item);
      calls.put(index, item);
      arguments.put(index, new StringBuilder());
      callOutputIndex.put(index, outputIndex);
      open = Kind.CALL;
      openCall = index;
      if (events != null) {
        object(at("response.output_item.added", outputIndex), "item", item);
        events.end();
      }
    } else if (item.getString("name").isEmpty() && function.getValue("name") instanceof String name) {
      item.put("name", name);
    }
    if (function.getValue("arguments") instanceof String more && !more.isEmpty()) {
      arguments.get(index).append(more);
      chars += more.length();
      item.put("arguments", arguments.get(index).toString());
      // A backend that interleaves parallel calls: a late piece of a call already done still goes out, under its item.
      if (events != null) {
        string(string(at("response.function_call_arguments.delta", callOutputIndex.get(index)), "item_id",
            item.getString("id")), "delta", more);
        events.end();
      }
    }
  }

  private void openText(Kind kind) {
    if (open == kind) {
      return;
    }
    close("completed");
    int outputIndex = items.size();
    JsonObject item;
    JsonObject part;
    if (kind == Kind.MESSAGE) {
      String id = "msg_" + responseId.substring("resp_".length()) + (messages == 0 ? "" : "_" + messages);
      messages++;
      item = new JsonObject().put("id", id).put("type", "message").put("status", "in_progress")
          .put("content", new JsonArray()).put("role", "assistant");
      part = outputText("");
    } else {
      item = new JsonObject().put("id", "rs_" + responseId.substring("resp_".length()) + "_" + outputIndex)
          .put("type", "reasoning").put("summary", new JsonArray()).put("content", new JsonArray());
      part = new JsonObject().put("type", "reasoning_text").put("text", "");
    }
    items.add(item);
    open = kind;
    text.setLength(0);
    if (events != null) {
      object(at("response.output_item.added", outputIndex), "item", item);
      events.end();
      object(string(at("response.content_part.added", outputIndex), "item_id", item.getString("id"))
          .append(",\"content_index\":0"), "part", part);
      events.end();
    }
  }

  private void close(String messageStatus) {
    int outputIndex = currentIndex();
    switch (open) {
      case NONE -> {
        return;
      }
      case MESSAGE, REASONING -> {
        JsonObject item = items.get(outputIndex);
        String done = text.toString();
        boolean message = open == Kind.MESSAGE;
        JsonObject part = message ? outputText(done)
            : new JsonObject().put("type", "reasoning_text").put("text", done);
        if (events != null) {
          StringBuilder textDone = string(string(at(message ? "response.output_text.done"
              : "response.reasoning_text.done", outputIndex), "item_id", item.getString("id"))
              .append(",\"content_index\":0"), "text", done);
          if (message) {
            textDone.append(",\"logprobs\":[]");
          }
          events.end();
        }
        if (message) {
          item.put("status", messageStatus);
        }
        item.put("content", new JsonArray().add(part));
        if (events != null) {
          object(string(at("response.content_part.done", outputIndex), "item_id", item.getString("id"))
              .append(",\"content_index\":0"), "part", part);
          events.end();
          object(at("response.output_item.done", outputIndex), "item", item);
          events.end();
        }
      }
      case CALL -> {
        JsonObject item = calls.get(openCall);
        item.put("status", "completed");
        if (events != null) {
          string(string(string(at("response.function_call_arguments.done", outputIndex), "item_id",
              item.getString("id")), "name", item.getString("name")), "arguments", item.getString("arguments"));
          events.end();
          object(at("response.output_item.done", outputIndex), "item", item);
          events.end();
        }
      }
    }
    open = Kind.NONE;
    openCall = -1;
  }

  private String openItemId() {
    return items.get(currentIndex()).getString("id");
  }

  private int currentIndex() {
    return open == Kind.CALL ? callOutputIndex.get(openCall) : items.size() - 1;
  }

  private static JsonObject outputText(String text) {
    return new JsonObject().put("type", "output_text").put("text", text).put("annotations", new JsonArray())
        .put("logprobs", new JsonArray());
  }

  /** Starts an event: its fields, starting with its output_index. */
  private StringBuilder at(String type, int outputIndex) {
    return events.start(type).append(",\"output_index\":").append(outputIndex);
  }

  /** Appends {@code ,"name":"value"}; a null value as null. */
  private static StringBuilder string(StringBuilder fields, String name, String value) {
    fields.append(",\"").append(name).append("\":");
    return value == null ? fields.append("null") : JsonText.escapedString(fields, value);
  }

  /**
   * Appends {@code ,"name":object} as Vert.x's codec writes it. Written at once, so the item may change after (it
   * does: its status, its content) without a copy.
   */
  private static StringBuilder object(StringBuilder fields, String name, JsonObject value) {
    int start = fields.append(",\"").append(name).append("\":").length();
    if (!JsonText.appendAsToBuffer(fields, value)) {
      fields.setLength(start);
      fields.append(value.toBuffer().toString(StandardCharsets.UTF_8));
    }
    return fields;
  }
}
