package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Reads an Anthropic Messages API event stream ({@code POST /v1/messages} with {@code stream: true}):
 * {@code content_block_delta}s are text ({@code text_delta}), reasoning ({@code thinking_delta}) or a tool call's
 * input ({@code input_json_delta}, after the {@code tool_use} block's {@code content_block_start}; tool calls are
 * numbered in the order their blocks start); the usage comes from {@code message_start} (prompt tokens: input plus
 * cache reads and writes; cached: cache reads) and {@code message_delta} (output tokens), which also says why the
 * answer ended ({@code end_turn} and {@code stop_sequence}: stop, {@code max_tokens}: length, {@code tool_use}:
 * tool_calls); {@code message_stop} ends it; an {@code error} event is a failure.
 */
final class MessagesEventReader implements NativeStream.Reader {

  private final Map<Integer, Integer> toolIndexByBlock = new HashMap<>();
  private int lastToolIndex = -1;
  private int promptTokens;
  private int cachedTokens;
  private int outputTokens;
  private String finishReason;

  @Override
  public void read(JsonObject event, NativeStream out) {
    switch (event.getString("type", "")) {
      case "message_start" -> {
        JsonObject usage = event.getJsonObject("message", new JsonObject()).getJsonObject("usage");
        if (usage != null) {
          readUsage(usage);
        }
      }
      case "content_block_start" -> {
        JsonObject block = event.getJsonObject("content_block", new JsonObject());
        if ("tool_use".equals(block.getString("type"))) {
          int index = ++lastToolIndex;
          toolIndexByBlock.put(event.getInteger("index", -1), index);
          out.delta(NativeStream.toolCall(index, block.getString("id"), block.getString("name"), ""));
        }
      }
      case "content_block_delta" -> {
        JsonObject delta = event.getJsonObject("delta", new JsonObject());
        switch (delta.getString("type", "")) {
          case "text_delta" -> {
            String text = delta.getString("text");
            if (text != null && !text.isEmpty()) {
              out.text(text);
            }
          }
          case "thinking_delta" -> {
            String thinking = delta.getString("thinking");
            if (thinking != null && !thinking.isEmpty()) {
              out.delta(NativeStream.reasoning(thinking));
            }
          }
          case "input_json_delta" -> {
            String partial = delta.getString("partial_json");
            if (partial != null && !partial.isEmpty()) {
              Integer index = toolIndexByBlock.get(event.getInteger("index", -1));
              out.delta(NativeStream.toolCall(index != null ? index : Math.max(0, lastToolIndex), null, null,
                  partial));
            }
          }
          default -> {
            // signature_delta and anything newer: nothing a chat stream carries
          }
        }
      }
      case "message_delta" -> {
        JsonObject usage = event.getJsonObject("usage");
        if (usage != null) {
          readUsage(usage);
        }
        String stop = event.getJsonObject("delta", new JsonObject()).getString("stop_reason");
        if (stop != null) {
          finishReason = switch (stop) {
            case "max_tokens", "model_context_window_exceeded" -> "length";
            case "tool_use" -> "tool_calls";
            case "refusal" -> "content_filter";
            default -> "stop"; // end_turn, stop_sequence, pause_turn
          };
        }
      }
      case "message_stop" -> {
        out.usage(promptTokens, outputTokens, cachedTokens);
        out.finish(finishReason != null ? finishReason : lastToolIndex >= 0 ? "tool_calls" : "stop");
      }
      case "error" -> {
        JsonObject error = event.getJsonObject("error", new JsonObject());
        String type = error.getString("type", "");
        out.failed(type.equals("invalid_request_error") ? GenerateError.Code.INVALID_REQUEST
            : GenerateError.Code.ENGINE_FAILED, "the Messages stream reported " + (type.isEmpty() ? "an error" : type)
            + ": " + error.getString("message", event.encode()));
      }
      default -> {
        // ping, content_block_stop: nothing new
      }
    }
  }

  /** Counts a usage object; message_delta's counts are cumulative, so the latest of each holds. */
  private void readUsage(JsonObject usage) {
    if (usage.containsKey("input_tokens") || usage.containsKey("cache_read_input_tokens")) {
      int cacheRead = usage.getInteger("cache_read_input_tokens", 0);
      promptTokens = usage.getInteger("input_tokens", 0) + cacheRead
          + usage.getInteger("cache_creation_input_tokens", 0);
      cachedTokens = cacheRead;
    }
    if (usage.containsKey("output_tokens")) {
      outputTokens = usage.getInteger("output_tokens", 0);
    }
  }
}
