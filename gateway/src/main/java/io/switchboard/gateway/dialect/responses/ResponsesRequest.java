package io.switchboard.gateway.dialect.responses;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@code POST /v1/responses} body, checked and translated into what workers speak: an OpenAI chat body. Every bad
 * field is a 400 {@link ApiError} whose {@code param} names it ({@code input[2].content[0].type}) and whose message
 * says how to fix it. What the Responses API echoes back in its response object is kept as given.
 */
final class ResponsesRequest {

  static final Set<String> ROLES = Set.of("user", "assistant", "system", "developer");
  static final Set<String> EFFORTS = Set.of("none", "minimal", "low", "medium", "high", "xhigh");
  static final int MAX_METADATA_KEYS = 16;
  static final int MAX_METADATA_KEY_CHARS = 64;
  static final int MAX_METADATA_VALUE_CHARS = 512;
  /** Item types of the Responses API this gateway cannot serve (they need OpenAI's hosted tools). */
  private static final Set<String> HOSTED_ITEMS = Set.of("web_search_call", "file_search_call", "computer_call",
      "computer_call_output", "code_interpreter_call", "image_generation_call", "local_shell_call",
      "local_shell_call_output", "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output",
      "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "mcp_call", "custom_tool_call",
      "custom_tool_call_output");

  final JsonObject body;
  final String model;
  final boolean stream;
  final boolean store;
  final String previousResponseId;
  /** The leading system message made of {@code instructions}, or null. */
  final JsonObject instructionsMessage;
  /** This request's input as chat messages, and the param each came from. */
  final List<JsonObject> inputMessages = new ArrayList<>();
  final List<String> inputParams = new ArrayList<>();
  /** The chat body's fields beside {@code messages}. */
  final JsonObject chatFields = new JsonObject();
  /**
   * Tools of the request the model does not see: OpenAI's hosted tools and tool groupings (web_search, namespace,
   * custom, ...), which a model on the user's own backend cannot run. Agents send them along with their function
   * tools; refusing the request would shut such an agent out. At most {@link #MAX_LEFT_OUT_SHOWN}, each cut short.
   */
  final List<String> leftOutTools = new ArrayList<>();
  static final int MAX_LEFT_OUT_SHOWN = 8;

  private ResponsesRequest(JsonObject body) {
    this.body = body;
    this.model = model(body);
    this.stream = flag(body, "stream", false);
    this.store = flag(body, "store", true);
    this.previousResponseId = previousResponseId(body);
    this.instructionsMessage = instructions(body);
    readInput(body);
    translateSettings(body);
  }

  /** Checks {@code body} and translates it; throws a 400 {@link ApiError} naming the first bad field. */
  static ResponsesRequest read(JsonObject body) {
    return new ResponsesRequest(body);
  }

  /**
   * The chat body for a worker: instructions, the earlier turns of a chained conversation ({@code prior}, from the
   * stored previous response), this request's input, and the settings.
   */
  JsonObject chatBody(JsonArray prior) {
    JsonArray messages = new JsonArray();
    if (instructionsMessage != null) {
      messages.add(instructionsMessage);
    }
    if (prior != null) {
      messages.addAll(prior.copy());
    }
    inputMessages.forEach(message -> messages.add(message.copy()));
    return chatFields.copy().put("model", model).put("messages", messages);
  }

  /**
   * Several system (or developer) messages at the start become one, their texts joined by a blank line: agents send
   * their instructions in parts, and many models' chat templates take a single system message only.
   */
  static JsonArray leadingSystemMessagesJoined(JsonArray messages) {
    int leading = 0;
    while (leading < messages.size() && messages.getValue(leading) instanceof JsonObject message
        && "system".equals(message.getValue("role")) && message.getValue("content") instanceof String) {
      leading++;
    }
    if (leading < 2) {
      return messages;
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < leading; i++) {
      text.append(i == 0 ? "" : "\n\n").append(messages.getJsonObject(i).getString("content"));
    }
    JsonArray joined = new JsonArray().add(new JsonObject().put("role", "system").put("content", text.toString()));
    for (int i = leading; i < messages.size(); i++) {
      joined.add(messages.getValue(i));
    }
    return joined;
  }

  /** The conversation so far without the instructions (which a chained request does not inherit). */
  JsonArray conversation(JsonArray prior) {
    JsonArray messages = prior == null ? new JsonArray() : prior.copy();
    inputMessages.forEach(message -> messages.add(message.copy()));
    return messages;
  }

  private static String model(JsonObject body) {
    Object value = body.getValue("model");
    if (value == null) {
      throw ApiError.missing("model", "'model' is required; GET /v1/models lists the models served.");
    }
    if (!(value instanceof String model)) {
      throw ApiError.invalidType("model", "a string");
    }
    if (model.isBlank()) {
      throw ApiError.invalid("model", "'model' must not be empty; GET /v1/models lists the models served.");
    }
    return model;
  }

  private static boolean flag(JsonObject body, String field, boolean fallback) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean flag)) {
      throw ApiError.invalidType(field, "a boolean (true or false)");
    }
    return flag;
  }

  private static String previousResponseId(JsonObject body) {
    Object value = body.getValue("previous_response_id");
    if (value == null) {
      return null;
    }
    if (!(value instanceof String id) || id.isBlank()) {
      throw ApiError.invalidType("previous_response_id", "the id of an earlier response (a string such as "
          + "\"resp_...\")");
    }
    return id;
  }

  private static JsonObject instructions(JsonObject body) {
    Object value = body.getValue("instructions");
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      throw ApiError.invalidType("instructions", "a string (the system message)");
    }
    return new JsonObject().put("role", "system").put("content", text);
  }

  private void readInput(JsonObject body) {
    Object input = body.getValue("input");
    if (input == null) {
      throw ApiError.missing("input", "'input' is required: a string, or an array of input items such as "
          + "{\"role\": \"user\", \"content\": \"hi\"}.");
    }
    if (input instanceof String text) {
      add(new JsonObject().put("role", "user").put("content", text), "input");
      return;
    }
    if (!(input instanceof JsonArray items)) {
      throw ApiError.invalidType("input", "a string or an array of input items");
    }
    if (items.isEmpty()) {
      throw ApiError.invalid("input", "'input' must not be an empty array: give at least one message.");
    }
    for (int i = 0; i < items.size(); i++) {
      String param = "input[" + i + "]";
      if (!(items.getValue(i) instanceof JsonObject item)) {
        throw ApiError.invalidType(param, "an input item object, e.g. {\"role\": \"user\", \"content\": \"hi\"}");
      }
      Object type = item.getValue("type");
      if (type == null || "message".equals(type)) {
        message(item, param);
      } else if ("function_call".equals(type)) {
        functionCall(item, param);
      } else if ("function_call_output".equals(type)) {
        functionCallOutput(item, param);
      } else if ("reasoning".equals(type)) {
        // The model's own earlier thinking, echoed back (Codex does): chat backends take no such input; it is left out.
        continue;
      } else if (!(type instanceof String typeName)) {
        throw ApiError.invalidType(param + ".type", "a string such as \"message\", \"function_call\" or "
            + "\"function_call_output\"");
      } else if ("item_reference".equals(typeName)) {
        throw ApiError.invalid(param + ".type", "Input items of type 'item_reference' are not served: send the "
            + "item itself, or chain with 'previous_response_id'.");
      } else if (HOSTED_ITEMS.contains(typeName)) {
        throw ApiError.invalid(param + ".type", "Input items of type '" + typeName + "' are not served: this "
            + "gateway serves only function tools. Send messages, 'function_call' and 'function_call_output' items.");
      } else {
        throw ApiError.invalid(param + ".type", "Unknown input item type '" + shown(typeName) + "'. Use "
            + "\"message\", \"function_call\" or \"function_call_output\".");
      }
    }
  }

  private void message(JsonObject item, String param) {
    Object role = item.getValue("role");
    if (role == null) {
      throw ApiError.missing(param + ".role", "'" + param + ".role' is required (one of " + sorted(ROLES) + ").");
    }
    if (!(role instanceof String roleName) || !ROLES.contains(roleName)) {
      throw ApiError.invalid(param + ".role", "'" + param + ".role' must be one of " + sorted(ROLES) + ", got "
          + describe(role) + ".");
    }
    String text = content(item.getValue("content"), param + ".content", roleName);
    // Backends' chat templates know "system"; "developer" is OpenAI's newer name for the same message.
    String chatRole = "developer".equals(roleName) ? "system" : roleName;
    add(new JsonObject().put("role", chatRole).put("content", text), param);
  }

  private static String content(Object content, String param, String role) {
    if (content == null) {
      throw ApiError.missing(param, "'" + param + "' is required: a string, or an array of content parts such "
          + "as {\"type\": \"input_text\", \"text\": \"hi\"}.");
    }
    if (content instanceof String text) {
      return text;
    }
    if (!(content instanceof JsonArray parts)) {
      throw ApiError.invalidType(param, "a string or an array of content parts");
    }
    StringBuilder text = new StringBuilder();
    for (int p = 0; p < parts.size(); p++) {
      String partParam = param + "[" + p + "]";
      if (!(parts.getValue(p) instanceof JsonObject part) || !(part.getValue("type") instanceof String type)) {
        throw ApiError.invalidType(partParam, "a content part with a 'type', e.g. {\"type\": \"input_text\", "
            + "\"text\": \"hi\"}");
      }
      switch (type) {
        case "input_text", "output_text", "text" -> {
          if (!(part.getValue("text") instanceof String partText)) {
            throw ApiError.invalidType(partParam + ".text", "a string");
          }
          text.append(partText);
        }
        case "refusal" -> {
          if (!(part.getValue("refusal") instanceof String refusal)) {
            throw ApiError.invalidType(partParam + ".refusal", "a string");
          }
          text.append(refusal);
        }
        case "input_image", "input_file", "input_audio" -> throw ApiError.invalid(partParam + ".type",
            "Content parts of type '" + type + "' are not served: this gateway's models take text only. Send the "
                + role + " message's content as text ('input_text' parts or a string).");
        default -> throw ApiError.invalid(partParam + ".type", "Unknown content part type '" + shown(type)
            + "'. Use \"input_text\" (or \"output_text\" in an assistant message).");
      }
    }
    return text.toString();
  }

  private void functionCall(JsonObject item, String param) {
    String callId = requiredString(item, "call_id", param, "the id the model gave the call");
    String name = requiredString(item, "name", param, "the function's name");
    String arguments = requiredString(item, "arguments", param, "the call's arguments as a JSON string");
    JsonObject call = new JsonObject().put("id", callId).put("type", "function")
        .put("function", new JsonObject().put("name", name).put("arguments", arguments));
    // Calls one after another are one assistant turn (parallel tool calls); so is text right before them.
    JsonObject last = inputMessages.isEmpty() ? null : inputMessages.get(inputMessages.size() - 1);
    if (last != null && "assistant".equals(last.getString("role"))) {
      JsonArray calls = last.getJsonArray("tool_calls");
      if (calls == null) {
        calls = new JsonArray();
        last.put("tool_calls", calls);
        if ("".equals(last.getValue("content"))) {
          last.putNull("content");
        }
      }
      calls.add(call);
      return;
    }
    add(new JsonObject().put("role", "assistant").putNull("content").put("tool_calls", new JsonArray().add(call)),
        param);
  }

  private void functionCallOutput(JsonObject item, String param) {
    String callId = requiredString(item, "call_id", param, "the call_id of the function_call it answers");
    Object output = item.getValue("output");
    String text;
    if (output instanceof String string) {
      text = string;
    } else if (output instanceof JsonArray) {
      text = content(output, param + ".output", "tool");
    } else if (output == null) {
      throw ApiError.missing(param + ".output", "'" + param + ".output' is required: the function's result as a "
          + "string.");
    } else {
      throw ApiError.invalidType(param + ".output", "a string (the function's result)");
    }
    add(new JsonObject().put("role", "tool").put("tool_call_id", callId).put("content", text), param);
  }

  private static String requiredString(JsonObject item, String field, String param, String what) {
    Object value = item.getValue(field);
    if (value == null) {
      throw ApiError.missing(param + "." + field, "'" + param + "." + field + "' is required: " + what + ".");
    }
    if (!(value instanceof String text)) {
      throw ApiError.invalidType(param + "." + field, "a string (" + what + ")");
    }
    return text;
  }

  private void add(JsonObject message, String param) {
    inputMessages.add(message);
    inputParams.add(param);
  }

  private void translateSettings(JsonObject body) {
    chatFields.put("stream", stream);
    Object maxOutput = body.getValue("max_output_tokens");
    if (maxOutput != null) {
      if (!(maxOutput instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
          || number.doubleValue() < 1 || number.doubleValue() > Integer.MAX_VALUE) {
        throw ApiError.invalid("max_output_tokens", "'max_output_tokens' must be a positive integer, got "
            + describe(maxOutput) + ".");
      }
      chatFields.put("max_tokens", number.intValue());
    }
    copyNumber(body, "temperature");
    copyNumber(body, "top_p");
    Object user = body.getValue("user");
    if (user != null) {
      if (!(user instanceof String)) {
        throw ApiError.invalidType("user", "a string");
      }
      chatFields.put("user", user);
    }
    tools(body);
    toolChoice(body);
    Object parallel = body.getValue("parallel_tool_calls");
    if (parallel != null) {
      if (!(parallel instanceof Boolean)) {
        throw ApiError.invalidType("parallel_tool_calls", "a boolean (true or false)");
      }
      chatFields.put("parallel_tool_calls", parallel);
    }
    reasoning(body);
    textFormat(body);
    metadata(body);
    Object background = body.getValue("background");
    if (Boolean.TRUE.equals(background)) {
      throw ApiError.invalid("background", "Background responses are not served: leave 'background' out (or "
          + "false) and stream the response instead.");
    }
  }

  private void copyNumber(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value != null) {
      if (!(value instanceof Number)) {
        throw ApiError.invalidType(field, "a number");
      }
      // The chat validator checks the range and names the field the same.
      chatFields.put(field, value);
    }
  }

  private void tools(JsonObject body) {
    Object value = body.getValue("tools");
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonArray tools)) {
      throw ApiError.invalidType("tools", "an array of function tools, e.g. [{\"type\": \"function\", \"name\": "
          + "\"get_weather\", \"parameters\": {...}}]");
    }
    JsonArray chatTools = new JsonArray();
    for (int i = 0; i < tools.size(); i++) {
      String param = "tools[" + i + "]";
      if (!(tools.getValue(i) instanceof JsonObject tool)) {
        throw ApiError.invalidType(param, "a tool object such as {\"type\": \"function\", \"name\": \"...\"}");
      }
      Object type = tool.getValue("type");
      if (type instanceof String hosted && !"function".equals(hosted)) {
        if (leftOutTools.size() < MAX_LEFT_OUT_SHOWN) {
          Object name = tool.getValue("name");
          leftOutTools.add(ClientText.shown(name instanceof String named ? hosted + ":" + named : hosted));
        }
        continue;
      }
      if (!"function".equals(type)) {
        throw ApiError.invalid(param + ".type", "Tool type " + describe(type) + " is not a tool type: use "
            + "{\"type\": \"function\", \"name\", \"description\", \"parameters\"} (other tools, OpenAI's hosted "
            + "ones, are left out: the model runs on your own backends).");
      }
      Object name = tool.getValue("name");
      if (name == null) {
        throw ApiError.missing(param + ".name", "'" + param + ".name' is required: the function's name.");
      }
      if (!(name instanceof String nameText) || nameText.isBlank()) {
        throw ApiError.invalidType(param + ".name", "a non-empty string");
      }
      JsonObject function = new JsonObject().put("name", nameText);
      Object description = tool.getValue("description");
      if (description != null) {
        if (!(description instanceof String)) {
          throw ApiError.invalidType(param + ".description", "a string");
        }
        function.put("description", description);
      }
      Object parameters = tool.getValue("parameters");
      if (parameters != null) {
        if (!(parameters instanceof JsonObject)) {
          throw ApiError.invalidType(param + ".parameters", "a JSON Schema object");
        }
        function.put("parameters", parameters);
      }
      Object strict = tool.getValue("strict");
      if (strict != null) {
        if (!(strict instanceof Boolean)) {
          throw ApiError.invalidType(param + ".strict", "a boolean (true or false)");
        }
        function.put("strict", strict);
      }
      chatTools.add(new JsonObject().put("type", "function").put("function", function));
    }
    if (!chatTools.isEmpty()) {
      chatFields.put("tools", chatTools);
    }
  }

  private void toolChoice(JsonObject body) {
    Object value = body.getValue("tool_choice");
    if (value == null) {
      return;
    }
    if (value instanceof String mode) {
      if (!Set.of("auto", "none", "required").contains(mode)) {
        throw ApiError.invalid("tool_choice", "'tool_choice' must be \"auto\", \"none\", \"required\" or "
            + "{\"type\": \"function\", \"name\": \"...\"}, got " + describe(value) + ".");
      }
      chatFields.put("tool_choice", mode);
      return;
    }
    if (!(value instanceof JsonObject choice)) {
      throw ApiError.invalidType("tool_choice", "\"auto\", \"none\", \"required\" or {\"type\": \"function\", "
          + "\"name\": \"...\"}");
    }
    if (!"function".equals(choice.getValue("type"))) {
      throw ApiError.invalid("tool_choice.type", "'tool_choice' of type " + describe(choice.getValue("type"))
          + " is not served: this gateway serves only function tools. Use {\"type\": \"function\", \"name\": "
          + "\"...\"} or \"auto\", \"none\", \"required\".");
    }
    if (!(choice.getValue("name") instanceof String name) || name.isBlank()) {
      throw ApiError.missing("tool_choice.name", "'tool_choice.name' is required: the function the model must "
          + "call.");
    }
    chatFields.put("tool_choice", new JsonObject().put("type", "function")
        .put("function", new JsonObject().put("name", name)));
  }

  private void reasoning(JsonObject body) {
    Object value = body.getValue("reasoning");
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonObject reasoning)) {
      throw ApiError.invalidType("reasoning", "an object such as {\"effort\": \"medium\"}");
    }
    Object effort = reasoning.getValue("effort");
    if (effort != null) {
      if (!(effort instanceof String level) || !EFFORTS.contains(level)) {
        throw ApiError.invalid("reasoning.effort", "'reasoning.effort' must be one of " + sorted(EFFORTS)
            + ", got " + describe(effort) + ".");
      }
      chatFields.put("reasoning_effort", level);
    }
  }

  private void textFormat(JsonObject body) {
    Object value = body.getValue("text");
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonObject text)) {
      throw ApiError.invalidType("text", "an object such as {\"format\": {\"type\": \"text\"}}");
    }
    Object formatValue = text.getValue("format");
    if (formatValue == null) {
      return;
    }
    if (!(formatValue instanceof JsonObject format)) {
      throw ApiError.invalidType("text.format", "an object such as {\"type\": \"text\"}");
    }
    Object type = format.getValue("type");
    if ("text".equals(type)) {
      return;
    }
    if ("json_object".equals(type)) {
      chatFields.put("response_format", new JsonObject().put("type", "json_object"));
      return;
    }
    if ("json_schema".equals(type)) {
      if (!(format.getValue("schema") instanceof JsonObject schema)) {
        throw ApiError.missing("text.format.schema", "'text.format.schema' is required for \"json_schema\": a JSON "
            + "Schema object.");
      }
      JsonObject jsonSchema = new JsonObject().put("name", format.getValue("name") instanceof String name ? name
          : "response").put("schema", schema);
      if (format.getValue("strict") instanceof Boolean strict) {
        jsonSchema.put("strict", strict);
      }
      if (format.getValue("description") instanceof String description) {
        jsonSchema.put("description", description);
      }
      chatFields.put("response_format", new JsonObject().put("type", "json_schema").put("json_schema", jsonSchema));
      return;
    }
    throw ApiError.invalid("text.format.type", "'text.format.type' must be \"text\", \"json_object\" or "
        + "\"json_schema\", got " + describe(type) + ".");
  }

  private static void metadata(JsonObject body) {
    Object value = body.getValue("metadata");
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonObject metadata)) {
      throw ApiError.invalidType("metadata", "an object of string keys and string values");
    }
    if (metadata.size() > MAX_METADATA_KEYS) {
      throw ApiError.invalid("metadata", "'metadata' holds " + metadata.size() + " keys; at most "
          + MAX_METADATA_KEYS + " are allowed.");
    }
    for (String key : metadata.fieldNames()) {
      if (key.length() > MAX_METADATA_KEY_CHARS) {
        throw ApiError.invalid("metadata", "'metadata' keys may be at most " + MAX_METADATA_KEY_CHARS
            + " characters long.");
      }
      if (!(metadata.getValue(key) instanceof String text)) {
        throw ApiError.invalidType("metadata." + shown(key), "a string");
      }
      if (text.length() > MAX_METADATA_VALUE_CHARS) {
        throw ApiError.invalid("metadata." + shown(key), "'metadata' values may be at most "
            + MAX_METADATA_VALUE_CHARS + " characters long.");
      }
    }
  }

  static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return "'" + shown(s) + "'";
    }
    if (value instanceof JsonArray) {
      return "an array";
    }
    if (value instanceof JsonObject) {
      return "an object";
    }
    return "a " + value.getClass().getSimpleName().toLowerCase() + " (" + value + ")";
  }

  private static String shown(String text) {
    return io.switchboard.gateway.http.ClientText.shown(text);
  }

  private static List<String> sorted(Set<String> values) {
    return values.stream().sorted().toList();
  }
}
