package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Builds Messages API answers from what workers send (text, and OpenAI-shaped chat deltas beside it).
 *
 * <ul>
 *   <li>{@code stop_reason}: stop is {@code end_turn} ({@code tool_use} when the answer holds tool calls), length is
 *       {@code max_tokens}, tool_calls and function_call are {@code tool_use}, content_filter is {@code refusal}.
 *       Workers do not say which stop sequence ended a generation (OpenAI's API has no field for it), so
 *       {@code stop_sequence} stays null and a stop sequence reads as {@code end_turn}.</li>
 *   <li>{@code usage}: {@code input_tokens} are the prompt tokens the engine computed, {@code cache_read_input_tokens}
 *       those it found in its prefix cache (Anthropic counts them apart: their sum is the prompt);
 *       {@code cache_creation_input_tokens} is 0, engines do not report it.</li>
 *   <li>A tool call's {@code input} is its arguments parsed; arguments that are not a JSON object (a model's
 *       malformed output) are kept as {@code {"_raw": "<the text>"}}, so the client still gets the call and can
 *       answer with an error tool_result the model can learn from, rather than the whole answer being lost.</li>
 *   <li>Reasoning the backend sends ({@code reasoning_content}) is not rendered: Anthropic's thinking blocks carry a
 *       signature no backend here can make.</li>
 * </ul>
 */
final class MessagesFormat {

  private MessagesFormat() {
  }

  static String messageId(String requestId) {
    return "msg_" + requestId;
  }

  static String stopReason(String finishReason, boolean toolCalls) {
    if (finishReason == null) {
      return toolCalls ? "tool_use" : "end_turn";
    }
    return switch (finishReason) {
      case "length" -> "max_tokens";
      case "tool_calls", "function_call" -> "tool_use";
      case "content_filter" -> "refusal";
      default -> toolCalls ? "tool_use" : "end_turn";
    };
  }

  static JsonObject usage(Usage usage) {
    int cached = Math.min(usage.cachedTokens(), usage.promptTokens());
    return new JsonObject()
        .put("input_tokens", usage.promptTokens() - cached)
        .put("cache_creation_input_tokens", 0)
        .put("cache_read_input_tokens", cached)
        .put("output_tokens", usage.completionTokens());
  }

  /** A tool call's arguments as the {@code input} object of a tool_use block. */
  static JsonObject toolInput(String arguments) {
    if (arguments == null || arguments.isBlank()) {
      return new JsonObject();
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(arguments);
      if (parsed instanceof JsonObject object) {
        return object;
      }
    } catch (DecodeException malformed) {
      // kept raw below
    }
    return new JsonObject().put("_raw", arguments);
  }

  /** The head of a message: no content yet, no stop reason. */
  static JsonObject message(String id, String model) {
    return new JsonObject()
        .put("id", id)
        .put("type", "message")
        .put("role", "assistant")
        .put("model", model)
        .put("content", new JsonArray())
        .putNull("stop_reason")
        .putNull("stop_sequence");
  }

  /** A whole answer. */
  static JsonObject completeMessage(String id, String model, String text, ChoiceExtras extras, String finishReason,
                                    Usage usage) {
    JsonObject message = message(id, model);
    JsonArray content = message.getJsonArray("content");
    var calls = extras.toolCalls();
    if (!text.isEmpty() || calls.isEmpty()) {
      content.add(new JsonObject().put("type", "text").put("text", text));
    }
    for (int i = 0; i < calls.size(); i++) {
      JsonObject call = calls.get(i);
      JsonObject function = call.getJsonObject("function", new JsonObject());
      content.add(new JsonObject().put("type", "tool_use")
          .put("id", call.getString("id", toolId(id, i)))
          .put("name", function.getString("name", ""))
          .put("input", toolInput(function.getString("arguments"))));
    }
    return message.put("stop_reason", stopReason(finishReason, !calls.isEmpty()))
        .put("usage", usage(usage));
  }

  /** An id for a tool call whose backend gave none. */
  static String toolId(String messageId, int index) {
    return "toolu_" + messageId.substring(messageId.indexOf('_') + 1) + "_" + index;
  }
}
