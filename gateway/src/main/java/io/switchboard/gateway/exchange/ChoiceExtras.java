package io.switchboard.gateway.exchange;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.TreeMap;

/**
 * Assembles what a backend streamed beside the text (chunk extras) into the one choice of a non-streamed
 * answer, the way OpenAI's streamed deltas add up: {@code tool_calls} merge by index (id, type and function name
 * from the first delta that has them, {@code function.arguments} concatenated), other text fields such as
 * {@code reasoning_content} concatenate, anything else keeps its last value; logprob lists concatenate.
 */
public final class ChoiceExtras {

  private final Map<Integer, JsonObject> toolCalls = new TreeMap<>();
  private final JsonObject message = new JsonObject();
  private JsonObject logprobs;

  public void add(JsonObject extra) {
    JsonObject delta = extra.getJsonObject("delta");
    if (delta != null) {
      delta.forEach(field -> addDeltaField(field.getKey(), field.getValue()));
    }
    if (extra.getValue("logprobs") instanceof JsonObject more) {
      logprobs = logprobs == null ? more.copy() : appendLists(logprobs, more);
    }
  }

  private void addDeltaField(String key, Object value) {
    if ("tool_calls".equals(key) && value instanceof JsonArray calls) {
      for (int i = 0; i < calls.size(); i++) {
        if (calls.getValue(i) instanceof JsonObject call) {
          mergeToolCall(call, i);
        }
      }
    } else if (value instanceof String text && message.getValue(key) instanceof String soFar) {
      message.put(key, soFar + text);
    } else if (value instanceof JsonObject object && message.getValue(key) instanceof JsonObject soFar) {
      // function_call (the legacy single tool call) streams its arguments like a tool call does.
      message.put(key, mergeFunction(soFar, object));
    } else {
      message.put(key, value instanceof JsonObject object ? object.copy() : value);
    }
  }

  private void mergeToolCall(JsonObject call, int position) {
    int index = call.getInteger("index", position);
    JsonObject merged = toolCalls.get(index);
    if (merged == null) {
      JsonObject first = call.copy();
      first.remove("index");
      toolCalls.put(index, first);
      return;
    }
    call.forEach(field -> {
      if ("function".equals(field.getKey()) && field.getValue() instanceof JsonObject function) {
        JsonObject soFar = merged.getJsonObject("function");
        merged.put("function", soFar == null ? function.copy() : mergeFunction(soFar, function));
      } else if (!"index".equals(field.getKey()) && !merged.containsKey(field.getKey())) {
        merged.put(field.getKey(), field.getValue());
      }
    });
  }

  private static JsonObject mergeFunction(JsonObject soFar, JsonObject more) {
    JsonObject merged = soFar.copy();
    more.forEach(field -> {
      if ("arguments".equals(field.getKey()) && field.getValue() instanceof String arguments) {
        merged.put("arguments", merged.getString("arguments", "") + arguments);
      } else if (!merged.containsKey(field.getKey())) {
        merged.put(field.getKey(), field.getValue());
      }
    });
    return merged;
  }

  private static JsonObject appendLists(JsonObject soFar, JsonObject more) {
    more.forEach(field -> {
      Object current = soFar.getValue(field.getKey());
      if (current instanceof JsonArray list && field.getValue() instanceof JsonArray added) {
        list.addAll(added);
      } else {
        soFar.put(field.getKey(), field.getValue());
      }
    });
    return soFar;
  }

  /** Nothing beside the text: no tool calls, no other message fields, no logprobs. */
  public boolean isEmpty() {
    return toolCalls.isEmpty() && message.isEmpty() && logprobs == null;
  }

  public boolean hasToolCalls() {
    return !toolCalls.isEmpty();
  }

  /** Adds the assembled fields to a chat answer's message. */
  public void completeMessage(JsonObject target) {
    message.forEach(field -> target.put(field.getKey(), field.getValue()));
    if (!toolCalls.isEmpty()) {
      JsonArray calls = new JsonArray();
      toolCalls.values().forEach(calls::add);
      target.put("tool_calls", calls);
    }
  }

  /** The tool calls assembled so far, in index order: {@code {id, type, function: {name, arguments}}}. */
  public java.util.List<JsonObject> toolCalls() {
    return java.util.List.copyOf(toolCalls.values());
  }

  /** A text field of the message assembled so far ({@code reasoning_content}, ...), or null. */
  public String text(String field) {
    return message.getValue(field) instanceof String text ? text : null;
  }

  /** The assembled logprobs, or null when the backend sent none. */
  public JsonObject logprobs() {
    return logprobs;
  }
}
