package io.switchboard.gateway.dialect.responses;

import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The {@code response} object of the Responses API as OpenAI shapes it, with the request's fields echoed back. */
final class ResponseObject {

  private final String id;
  private final long createdAt = System.currentTimeMillis() / 1000;
  private final ResponsesRequest source;

  ResponseObject(String id, ResponsesRequest source) {
    this.id = id;
    this.source = source;
  }

  /**
   * @param status {@code in_progress}, {@code completed}, {@code incomplete} or {@code failed}
   * @param usage  null until the answer is complete
   * @param error  {@code {code, message}} of a failed response, else null
   */
  JsonObject build(String status, JsonArray output, Usage usage, JsonObject error) {
    JsonObject body = source.body;
    JsonObject reasoning = body.getValue("reasoning") instanceof JsonObject given ? given : new JsonObject();
    return new JsonObject()
        .put("id", id)
        .put("object", "response")
        .put("created_at", createdAt)
        .put("status", status)
        .put("background", false)
        .put("error", error)
        .putNull("incomplete_details")
        .put("instructions", body.getValue("instructions"))
        .put("max_output_tokens", body.getValue("max_output_tokens"))
        .put("model", source.model)
        .put("output", output)
        .put("parallel_tool_calls", body.getValue("parallel_tool_calls", true))
        .put("previous_response_id", source.previousResponseId)
        .put("reasoning", new JsonObject().put("effort", reasoning.getValue("effort"))
            .put("summary", reasoning.getValue("summary")))
        .put("store", source.store)
        .put("temperature", body.getValue("temperature", 1.0))
        .put("text", body.getValue("text") instanceof JsonObject text && text.containsKey("format") ? text.copy()
            : new JsonObject().put("format", new JsonObject().put("type", "text")))
        .put("tool_choice", body.getValue("tool_choice", "auto"))
        .put("tools", body.getValue("tools", new JsonArray()))
        .put("top_p", body.getValue("top_p", 1.0))
        .put("truncation", "disabled")
        .put("usage", usage == null ? null : usage(usage))
        .put("user", body.getValue("user"))
        .put("metadata", body.getValue("metadata", new JsonObject()));
  }

  static JsonObject usage(Usage usage) {
    return new JsonObject()
        .put("input_tokens", usage.promptTokens())
        .put("input_tokens_details", new JsonObject().put("cached_tokens", usage.cachedTokens()))
        .put("output_tokens", usage.completionTokens())
        .put("output_tokens_details", new JsonObject().put("reasoning_tokens", 0))
        .put("total_tokens", usage.totalTokens());
  }
}
