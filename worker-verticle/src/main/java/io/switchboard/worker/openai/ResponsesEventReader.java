package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Reads an OpenAI Responses API event stream ({@code POST /v1/responses} with {@code stream: true}):
 * {@code response.output_text.delta} is text; a {@code function_call} output item and its
 * {@code response.function_call_arguments.delta}s are tool-call deltas (numbered in the order the calls start);
 * {@code response.reasoning_text.delta} and {@code response.reasoning_summary_text.delta} are reasoning;
 * {@code response.completed} / {@code response.incomplete} carry the usage and how the answer ended;
 * {@code response.failed} and {@code error} are failures. Other events (created, in_progress, content parts, item
 * done) say nothing a chat stream needs.
 *
 * <p>llama-server reports {@code completed} for an answer its token limit cut (it never sends {@code incomplete}):
 * an answer whose output tokens reached the limit the worker sent ended by {@code length}.
 */
final class ResponsesEventReader implements NativeStream.Reader {

  private final int limitSent;
  private final Map<String, Integer> toolIndexByItem = new HashMap<>();
  private int lastToolIndex = -1;

  /** @param limitSent the {@code max_output_tokens} sent to the backend; 0 when none */
  ResponsesEventReader(int limitSent) {
    this.limitSent = limitSent;
  }

  @Override
  public void read(JsonObject event, NativeStream out) {
    String type = event.getString("type", "");
    switch (type) {
      case "response.output_text.delta" -> {
        String delta = event.getString("delta");
        if (delta != null && !delta.isEmpty()) {
          out.text(delta);
        }
      }
      case "response.reasoning_text.delta", "response.reasoning_summary_text.delta" -> {
        String delta = event.getString("delta");
        if (delta != null && !delta.isEmpty()) {
          out.delta(NativeStream.reasoning(delta));
        }
      }
      case "response.output_item.added" -> {
        JsonObject item = event.getJsonObject("item", new JsonObject());
        if ("function_call".equals(item.getString("type"))) {
          int index = ++lastToolIndex;
          if (item.getString("id") != null) {
            toolIndexByItem.put(item.getString("id"), index);
          }
          String callId = item.getString("call_id", item.getString("id"));
          out.delta(NativeStream.toolCall(index, callId, item.getString("name"), item.getString("arguments", "")));
        }
      }
      case "response.function_call_arguments.delta" -> {
        String delta = event.getString("delta");
        if (delta != null && !delta.isEmpty()) {
          Integer index = toolIndexByItem.get(event.getString("item_id", ""));
          out.delta(NativeStream.toolCall(index != null ? index : Math.max(0, lastToolIndex), null, null, delta));
        }
      }
      case "response.completed", "response.incomplete" -> ended(event.getJsonObject("response", new JsonObject()), out);
      case "response.failed" -> {
        JsonObject response = event.getJsonObject("response", new JsonObject());
        JsonObject error = response.getJsonObject("error", new JsonObject());
        out.failed(codeOf(error.getString("code")), "the Responses stream failed: "
            + error.getString("message", response.encode()));
      }
      case "error" -> {
        JsonObject error = event.getValue("error") instanceof JsonObject nested ? nested : event;
        out.failed(codeOf(error.getString("code", error.getString("type"))),
            "the Responses stream reported an error: " + error.getString("message", event.encode()));
      }
      default -> {
        // response.created, response.in_progress, content parts, output_text.done, item done: nothing new
      }
    }
  }

  private void ended(JsonObject response, NativeStream out) {
    JsonObject usage = response.getJsonObject("usage");
    int output = 0;
    if (usage != null) {
      JsonObject details = usage.getJsonObject("input_tokens_details");
      output = usage.getInteger("output_tokens", 0);
      out.usage(usage.getInteger("input_tokens", 0), output, details == null ? 0 : details.getInteger("cached_tokens",
          0));
    }
    String status = response.getString("status", "completed");
    if ("incomplete".equals(status)) {
      JsonObject details = response.getJsonObject("incomplete_details", new JsonObject());
      out.finish("content_filter".equals(details.getString("reason")) ? "content_filter" : "length");
    } else if (lastToolIndex >= 0 || hasFunctionCall(response.getJsonArray("output"))) {
      out.finish("tool_calls");
    } else if (limitSent > 0 && output >= limitSent) {
      out.finish("length");
    } else {
      out.finish("stop");
    }
  }

  private static boolean hasFunctionCall(JsonArray output) {
    if (output == null) {
      return false;
    }
    for (Object item : output) {
      if (item instanceof JsonObject object && "function_call".equals(object.getString("type"))) {
        return true;
      }
    }
    return false;
  }

  /** A failure the request caused is the client's to fix; any other is the backend's. */
  static GenerateError.Code codeOf(String code) {
    return code != null && (code.startsWith("invalid") || code.equals("400") || code.equals("422")
        || code.equals("context_length_exceeded")) ? GenerateError.Code.INVALID_REQUEST
        : GenerateError.Code.ENGINE_FAILED;
  }
}
