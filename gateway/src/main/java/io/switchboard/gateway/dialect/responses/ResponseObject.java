package io.switchboard.gateway.dialect.responses;

import io.switchboard.protocol.Usage;
import io.switchboard.runtime.json.JsonText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** The {@code response} object of the Responses API as OpenAI shapes it, with the request's fields echoed back. */
final class ResponseObject {

  private final String id;
  private final long createdAt = System.currentTimeMillis() / 1000;
  private final ResponsesRequest source;
  /** The request's fields as {@link #json} writes them, once it has; see {@link #echo}. */
  private String[] echoed;
  private int echoedLength;

  /** The model the response names: the one that served it (the request's until told otherwise). */
  private String model;

  ResponseObject(String id, ResponsesRequest source) {
    this.id = id;
    this.source = source;
    this.model = source.model;
  }

  /** Names {@code model} in the response objects written from now on. */
  void servedBy(String model) {
    if (!model.equals(this.model)) {
      this.model = model;
      echoed = null;
    }
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
        .put("model", model)
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

  /**
   * The bytes of {@code JsonText.toBuffer(build(status, output, usage, error))} with {@code incomplete_details}
   * {@code {"reason": incompleteReason}} (or null), written straight out: the request's echoed fields are the same
   * in every response object of a stream (created, in_progress, completed), so they are written once per request
   * and copied in; building and writing the whole tree three times was most of what a streamed Responses answer
   * cost beyond a chat one (docs/performance.md, "Dialects"). Null when a value is one JsonText leaves to Vert.x's
   * codec: the caller writes the tree then.
   */
  String json(String status, JsonArray output, Usage usage, JsonObject error, String incompleteReason) {
    StringBuilder out = new StringBuilder(echoed == null ? 1024 : echoedLength + 400);
    return write(out, status, output, usage, error, incompleteReason) ? out.toString() : null;
  }

  /**
   * Appends what {@link #json} returns to {@code out} (a frame around it: an SSE event). False, with {@code out}
   * holding part of it, when json would return null.
   */
  boolean write(StringBuilder out, String status, JsonArray output, Usage usage, JsonObject error,
                String incompleteReason) {
    if (echoed == null && !echo()) {
      return false;
    }
    JsonText.escapedString(out.append("{\"id\":"), id).append(",\"object\":\"response\",\"created_at\":")
        .append(createdAt);
    JsonText.escapedString(out.append(",\"status\":"), status).append(",\"background\":false,\"error\":");
    if (!value(out, error)) {
      return false;
    }
    out.append(",\"incomplete_details\":");
    if (incompleteReason == null) {
      out.append("null");
    } else {
      JsonText.escapedString(out.append("{\"reason\":"), incompleteReason).append('}');
    }
    out.append(',').append(echoed[0]).append(",\"output\":[");
    for (int i = 0; i < output.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      if (!(output.getValue(i) instanceof JsonObject item) || !JsonText.appendAsToBuffer(out, item)) {
        return false;
      }
    }
    out.append("],").append(echoed[1]).append(",\"usage\":");
    if (usage == null) {
      out.append("null");
    } else {
      // As usage(usage) is written.
      out.append("{\"input_tokens\":").append(usage.promptTokens())
          .append(",\"input_tokens_details\":{\"cached_tokens\":").append(usage.cachedTokens())
          .append("},\"output_tokens\":").append(usage.completionTokens())
          .append(",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":")
          .append(usage.totalTokens()).append('}');
    }
    out.append(',').append(echoed[2]).append('}');
    return true;
  }

  private static boolean value(StringBuilder out, JsonObject object) {
    if (object == null) {
      out.append("null");
      return true;
    }
    return JsonText.appendAsToBuffer(out, object);
  }

  /**
   * The fields of {@link #build} that come from the request, as JSON members without their braces: those between
   * incomplete_details and output, between output and usage, and after usage; each value as build puts it (the
   * differential test holds them to it). False when JsonText cannot write them.
   */
  private boolean echo() {
    JsonObject body = source.body;
    JsonObject reasoning = body.getValue("reasoning") instanceof JsonObject given ? given : null;
    StringBuilder first = new StringBuilder(64);
    StringBuilder middle = new StringBuilder(320);
    StringBuilder last = new StringBuilder(48);
    boolean written = member(first, "instructions", body.getValue("instructions"), true)
        && member(first, "max_output_tokens", body.getValue("max_output_tokens"), false)
        && member(first, "model", model, false)
        && member(middle, "parallel_tool_calls", body.getValue("parallel_tool_calls", true), true)
        && member(middle, "previous_response_id", source.previousResponseId, false)
        && member(middle.append(",\"reasoning\":{"), "effort", reasoning == null ? null : reasoning.getValue("effort"),
            true)
        && member(middle, "summary", reasoning == null ? null : reasoning.getValue("summary"), false)
        && member(middle.append('}'), "store", source.store, false)
        && member(middle, "temperature", body.getValue("temperature", 1.0), false)
        && member(middle.append(",\"text\":"), null, body.getValue("text") instanceof JsonObject text
            && text.containsKey("format") ? text : DEFAULT_TEXT, true)
        && member(middle, "tool_choice", body.getValue("tool_choice", "auto"), false)
        && member(middle, "tools", body.getValue("tools", EMPTY), false)
        && member(middle, "top_p", body.getValue("top_p", 1.0), false)
        && member(middle, "truncation", "disabled", false)
        && member(last, "user", body.getValue("user"), true)
        && member(last, "metadata", body.getValue("metadata", EMPTY_OBJECT), false);
    if (!written) {
      return false;
    }
    echoed = new String[] {first.toString(), middle.toString(), last.toString()};
    echoedLength = echoed[0].length() + echoed[1].length() + echoed[2].length();
    return true;
  }

  private static final JsonObject DEFAULT_TEXT = new JsonObject().put("format", new JsonObject().put("type", "text"));
  private static final JsonArray EMPTY = new JsonArray();
  private static final JsonObject EMPTY_OBJECT = new JsonObject();

  /** Appends {@code "name":value}, after a comma unless it is the first; a null name appends the value only. */
  private static boolean member(StringBuilder out, String name, Object value, boolean first) {
    if (name != null) {
      JsonText.escapedString(first ? out : out.append(','), name).append(':');
    }
    return JsonText.appendValueAsToBuffer(out, value);
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
