package io.switchboard.gateway.dialect.messages;

import io.switchboard.gateway.api.RequestValidator;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.http.ClientText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Translates an Anthropic Messages request into the OpenAI chat body workers speak, checking every field it reads.
 * Each failure is a 400 whose message names the field (as {@code messages[2].content[0].type}) and says how to fix it.
 *
 * <ul>
 *   <li>{@code model}, {@code max_tokens} (required, as Anthropic requires it), {@code stream}, {@code top_p},
 *       {@code top_k} go over as they are; {@code temperature} must be in 0..1 (Anthropic's range).</li>
 *   <li>{@code system} (a string or text blocks) becomes a leading system message.</li>
 *   <li>{@code messages}: roles user and assistant; content a string or blocks. {@code text} blocks join with a
 *       newline into the message's text; an assistant's {@code tool_use} blocks become its {@code tool_calls}
 *       (arguments = the JSON text of {@code input}); a user's {@code tool_result} blocks become {@code tool}
 *       messages placed before the user's text (a result with {@code is_error} is prefixed "Error: ", chat has no
 *       such flag); {@code thinking} and {@code redacted_thinking} blocks a client sends back are dropped (the
 *       backend cannot check their signatures); {@code image} and {@code document} blocks are refused: the gateway
 *       does not serve them.</li>
 *   <li>{@code stop_sequences} become {@code stop} (at most 4, the chat limit); {@code metadata.user_id} becomes
 *       {@code user}.</li>
 *   <li>{@code tools} ({@code name}, {@code description}, {@code input_schema}) become function tools; Anthropic's
 *       server tools (a {@code type} other than {@code custom}) are refused. {@code tool_choice} auto, any, tool and
 *       none become auto, required, a named function and none; {@code disable_parallel_tool_use} becomes
 *       {@code parallel_tool_calls: false}.</li>
 *   <li>{@code thinking} is checked ({@code enabled} with {@code budget_tokens}, {@code disabled} or
 *       {@code adaptive}) and not passed on: chat backends decide by themselves whether a model reasons, and there is
 *       no common field to ask them.</li>
 *   <li>Any other field (cache_control on blocks, service_tier, ...) is accepted and ignored.</li>
 * </ul>
 */
public final class MessagesTranslator {

  /** Most stop sequences OpenAI-compatible backends take (Anthropic takes more). */
  static final int MAX_STOP_SEQUENCES = 4;
  /**
   * {@code system} in {@code messages} is Anthropic's mid-conversation system message (Claude Code sends one). It
   * goes to the model as user text where it stands: moved into the leading system message it would change the
   * prompt's start on every turn (and with it the backend's prefix cache), and many chat templates refuse a system
   * message after the first.
   */
  private static final Set<String> ROLES = Set.of("user", "assistant", "system");

  private MessagesTranslator() {
  }

  /**
   * @param counting for {@code count_tokens}: {@code max_tokens} is not required and nothing is generated
   * @return the chat body
   * @throws ApiError 400 naming the field and the fix
   */
  public static JsonObject toChat(JsonObject body, boolean counting) {
    JsonObject chat = new JsonObject();
    Object model = body.getValue("model");
    if (model == null) {
      throw ApiError.missing("model", "model: Field required. Name the model to use, e.g. \"model\": \"mock-llm\"; "
          + "GET /v1/models lists the models served.");
    }
    if (!(model instanceof String name) || name.isBlank()) {
      throw ApiError.invalidType("model", "a non-empty string naming a model; GET /v1/models lists the models served");
    }
    chat.put("model", name);
    JsonArray messages = new JsonArray();
    system(body.getValue("system"), messages);
    messages(body.getValue("messages"), messages);
    chat.put("messages", messages);
    if (!counting) {
      chat.put("max_tokens", maxTokens(body.getValue("max_tokens")));
      Object stream = body.getValue("stream");
      if (stream != null) {
        if (!(stream instanceof Boolean flag)) {
          throw ApiError.invalidType("stream", "a boolean (true or false)");
        }
        chat.put("stream", flag);
      }
      number(body, "temperature", 0, 1, chat);
      number(body, "top_p", 0, 1, chat);
      Object topK = body.getValue("top_k");
      if (topK != null) {
        if (!(topK instanceof Number k) || k.doubleValue() != Math.rint(k.doubleValue()) || k.longValue() < 0
            || k.longValue() > Integer.MAX_VALUE) {
          throw ApiError.invalid("top_k", "'top_k' must be a whole number >= 0, got " + describe(topK) + ".");
        }
        chat.put("top_k", k.intValue());
      }
      stops(body.getValue("stop_sequences"), chat);
      user(body.getValue("metadata"), chat);
    }
    Set<String> toolNames = tools(body.getValue("tools"), chat);
    toolChoice(body.getValue("tool_choice"), toolNames, chat);
    thinking(body.getValue("thinking"));
    return chat;
  }

  private static int maxTokens(Object value) {
    if (value == null) {
      throw ApiError.missing("max_tokens", "max_tokens: Field required. The Messages API needs the most tokens to "
          + "generate, e.g. \"max_tokens\": 1024.");
    }
    if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
        || number.longValue() < 1 || number.longValue() > Integer.MAX_VALUE) {
      throw ApiError.invalid("max_tokens", "'max_tokens' must be a positive integer, e.g. 1024, got "
          + describe(value) + ".");
    }
    return number.intValue();
  }

  private static void system(Object system, JsonArray messages) {
    if (system == null) {
      return;
    }
    String text;
    if (system instanceof String plain) {
      text = plain;
    } else if (system instanceof JsonArray blocks) {
      StringBuilder joined = new StringBuilder();
      for (int i = 0; i < blocks.size(); i++) {
        String param = "system[" + i + "]";
        if (!(blocks.getValue(i) instanceof JsonObject block) || !"text".equals(block.getValue("type"))) {
          throw ApiError.invalidType(param, "a text block {\"type\": \"text\", \"text\": \"...\"}");
        }
        joined.append(joined.isEmpty() ? "" : "\n").append(text(block, param));
      }
      text = joined.toString();
    } else {
      throw ApiError.invalidType("system", "a string or an array of text blocks");
    }
    if (!text.isEmpty()) {
      messages.add(new JsonObject().put("role", "system").put("content", text));
    }
  }

  private static void messages(Object value, JsonArray out) {
    if (value == null) {
      throw ApiError.missing("messages", "messages: Field required. Send the conversation, e.g. \"messages\": "
          + "[{\"role\": \"user\", \"content\": \"Hello\"}].");
    }
    if (!(value instanceof JsonArray messages)) {
      throw ApiError.invalidType("messages", "an array of {\"role\", \"content\"} objects");
    }
    if (messages.isEmpty()) {
      throw ApiError.invalid("messages", "'messages' must contain at least one message.");
    }
    for (int i = 0; i < messages.size(); i++) {
      String param = "messages[" + i + "]";
      if (!(messages.getValue(i) instanceof JsonObject message)) {
        throw ApiError.invalidType(param, "an object with 'role' and 'content'");
      }
      Object role = message.getValue("role");
      if (!(role instanceof String roleName) || !ROLES.contains(roleName)) {
        throw ApiError.invalid(param + ".role", "'" + param + ".role' must be \"user\" or \"assistant\", got "
            + describe(role) + ".");
      }
      Object content = message.getValue("content");
      if (content == null) {
        throw ApiError.missing(param + ".content", "'" + param + ".content' is required: a string or an array of "
            + "content blocks.");
      }
      if ("system".equals(roleName)) {
        addUserText(out, systemText(content, param + ".content"));
      } else if (content instanceof String text) {
        if ("user".equals(roleName)) {
          addUserText(out, text);
        } else {
          out.add(new JsonObject().put("role", roleName).put("content", text));
        }
      } else if (content instanceof JsonArray blocks) {
        if ("user".equals(roleName)) {
          userBlocks(blocks, param, out);
        } else {
          assistantBlocks(blocks, param, out);
        }
      } else {
        throw ApiError.invalidType(param + ".content", "a string or an array of content blocks");
      }
    }
  }

  /**
   * Whether a backend that serves the Messages API itself may get {@code body} as the client wrote it: not when it
   * holds what the gateway reshapes for chat templates (system messages inside {@code messages}).
   */
  static boolean servableAsWritten(JsonObject body) {
    if (body.getValue("messages") instanceof JsonArray messages) {
      for (Object message : messages) {
        if (message instanceof JsonObject turn && "system".equals(turn.getValue("role"))) {
          return false;
        }
      }
    }
    return true;
  }

  private static void userBlocks(JsonArray blocks, String param, JsonArray out) {
    StringBuilder text = null;
    for (int b = 0; b < blocks.size(); b++) {
      String blockParam = param + ".content[" + b + "]";
      JsonObject block = block(blocks.getValue(b), blockParam);
      switch (block.getString("type")) {
        case "text" -> {
          String piece = text(block, blockParam);
          text = text == null ? new StringBuilder(piece) : text.append('\n').append(piece);
        }
        case "tool_result" -> out.add(toolResult(block, blockParam));
        case "tool_use" -> throw ApiError.invalid(blockParam + ".type", "'" + blockParam + "' is a tool_use block "
            + "in a user message; tool_use blocks belong in assistant messages, the user answers them with "
            + "tool_result blocks.");
        case "thinking", "redacted_thinking" -> {
        }
        default -> throw unsupported(block.getString("type"), blockParam);
      }
    }
    if (text != null || blocks.isEmpty()) {
      addUserText(out, text == null ? "" : text.toString());
    }
  }

  /**
   * User text, joined to the user text just before it if there is one: chat templates that want user and assistant
   * turns to alternate would refuse two user messages in a row.
   */
  private static void addUserText(JsonArray out, String text) {
    if (!out.isEmpty() && out.getValue(out.size() - 1) instanceof JsonObject last && "user".equals(last.getValue("role"))
        && last.getValue("content") instanceof String before) {
      last.put("content", before.isEmpty() ? text : text.isEmpty() ? before : before + "\n\n" + text);
      return;
    }
    out.add(new JsonObject().put("role", "user").put("content", text));
  }

  /** A mid-conversation system message's text: a string or text blocks. */
  private static String systemText(Object content, String param) {
    if (content instanceof String text) {
      return text;
    }
    if (!(content instanceof JsonArray blocks)) {
      throw ApiError.invalidType(param, "a string or an array of text blocks");
    }
    StringBuilder text = new StringBuilder();
    for (int b = 0; b < blocks.size(); b++) {
      String blockParam = param + "[" + b + "]";
      JsonObject block = block(blocks.getValue(b), blockParam);
      if (!"text".equals(block.getString("type"))) {
        throw ApiError.invalid(blockParam + ".type", "A system message holds text blocks only, got '"
            + ClientText.shown(block.getString("type")) + "'.");
      }
      text.append(text.isEmpty() ? "" : "\n").append(text(block, blockParam));
    }
    return text.toString();
  }

  private static void assistantBlocks(JsonArray blocks, String param, JsonArray out) {
    StringBuilder text = null;
    JsonArray calls = new JsonArray();
    for (int b = 0; b < blocks.size(); b++) {
      String blockParam = param + ".content[" + b + "]";
      JsonObject block = block(blocks.getValue(b), blockParam);
      switch (block.getString("type")) {
        case "text" -> {
          String piece = text(block, blockParam);
          text = text == null ? new StringBuilder(piece) : text.append('\n').append(piece);
        }
        case "tool_use" -> calls.add(toolUse(block, blockParam));
        case "tool_result" -> throw ApiError.invalid(blockParam + ".type", "'" + blockParam + "' is a tool_result "
            + "block in an assistant message; tool results belong in the next user message.");
        case "thinking", "redacted_thinking" -> {
        }
        default -> throw unsupported(block.getString("type"), blockParam);
      }
    }
    JsonObject message = new JsonObject().put("role", "assistant");
    if (calls.isEmpty()) {
      message.put("content", text == null ? "" : text.toString());
    } else {
      message.put("content", text == null ? null : text.toString()).put("tool_calls", calls);
    }
    out.add(message);
  }

  private static JsonObject block(Object value, String param) {
    if (!(value instanceof JsonObject block) || !(block.getValue("type") instanceof String)) {
      throw ApiError.invalidType(param, "a content block with a 'type', e.g. {\"type\": \"text\", \"text\": \"hi\"}");
    }
    return block;
  }

  private static ApiError unsupported(String type, String param) {
    if ("image".equals(type) || "document".equals(type)) {
      return ApiError.invalid(param + ".type", "'" + param + "' is " + ("image".equals(type) ? "an image" : "a document")
          + " block; this gateway does not serve " + type + " input (its workers take text). Send the content as "
          + "text blocks instead.");
    }
    return ApiError.invalid(param + ".type", "'" + param + ".type' is '" + type + "'; this gateway serves the "
        + "content block types text, tool_use, tool_result, thinking and redacted_thinking.");
  }

  private static String text(JsonObject block, String param) {
    if (!(block.getValue("text") instanceof String text)) {
      throw ApiError.invalidType(param + ".text", "a string");
    }
    return text;
  }

  private static JsonObject toolUse(JsonObject block, String param) {
    if (!(block.getValue("id") instanceof String id) || id.isEmpty()) {
      throw ApiError.invalidType(param + ".id", "a non-empty string (the id the tool_result refers to)");
    }
    if (!(block.getValue("name") instanceof String name) || name.isEmpty()) {
      throw ApiError.invalidType(param + ".name", "a non-empty string (the tool's name)");
    }
    Object input = block.getValue("input");
    if (input != null && !(input instanceof JsonObject)) {
      throw ApiError.invalidType(param + ".input", "an object (the tool's arguments)");
    }
    String arguments = input == null ? "{}" : ((JsonObject) input).encode();
    return new JsonObject().put("id", id).put("type", "function")
        .put("function", new JsonObject().put("name", name).put("arguments", arguments));
  }

  private static JsonObject toolResult(JsonObject block, String param) {
    if (!(block.getValue("tool_use_id") instanceof String id) || id.isEmpty()) {
      throw ApiError.invalidType(param + ".tool_use_id", "a non-empty string: the id of the tool_use it answers");
    }
    Object content = block.getValue("content");
    String text;
    if (content == null) {
      text = "";
    } else if (content instanceof String plain) {
      text = plain;
    } else if (content instanceof JsonArray parts) {
      StringBuilder joined = new StringBuilder();
      for (int p = 0; p < parts.size(); p++) {
        String partParam = param + ".content[" + p + "]";
        JsonObject part = block(parts.getValue(p), partParam);
        if (!"text".equals(part.getString("type"))) {
          throw unsupported(part.getString("type"), partParam);
        }
        joined.append(joined.isEmpty() ? "" : "\n").append(text(part, partParam));
      }
      text = joined.toString();
    } else {
      throw ApiError.invalidType(param + ".content", "a string or an array of text blocks");
    }
    Object isError = block.getValue("is_error");
    if (isError != null && !(isError instanceof Boolean)) {
      throw ApiError.invalidType(param + ".is_error", "a boolean (true or false)");
    }
    if (Boolean.TRUE.equals(isError)) {
      text = "Error: " + text;
    }
    return new JsonObject().put("role", "tool").put("tool_call_id", id).put("content", text);
  }

  private static void number(JsonObject body, String field, double min, double max, JsonObject chat) {
    Object value = body.getValue(field);
    if (value == null) {
      return;
    }
    if (!(value instanceof Number number) || Double.isNaN(number.doubleValue()) || number.doubleValue() < min
        || number.doubleValue() > max) {
      throw ApiError.invalid(field, "'" + field + "' must be a number between " + (int) min + " and " + (int) max
          + " (the Messages API's range), got " + describe(value) + ".");
    }
    chat.put(field, number);
  }

  private static void stops(Object value, JsonObject chat) {
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonArray stops)) {
      throw ApiError.invalidType("stop_sequences", "an array of strings");
    }
    if (stops.size() > MAX_STOP_SEQUENCES) {
      throw ApiError.invalid("stop_sequences", "'stop_sequences' holds " + stops.size() + " sequences; this gateway's "
          + "backends take at most " + MAX_STOP_SEQUENCES + ". Send the " + MAX_STOP_SEQUENCES + " that matter most.");
    }
    for (int i = 0; i < stops.size(); i++) {
      if (!(stops.getValue(i) instanceof String stop) || stop.isEmpty()) {
        throw ApiError.invalidType("stop_sequences[" + i + "]", "a non-empty string");
      }
    }
    if (!stops.isEmpty()) {
      chat.put("stop", stops.copy());
    }
  }

  private static void user(Object metadata, JsonObject chat) {
    if (metadata == null) {
      return;
    }
    if (!(metadata instanceof JsonObject object)) {
      throw ApiError.invalidType("metadata", "an object such as {\"user_id\": \"...\"}");
    }
    Object userId = object.getValue("user_id");
    if (userId != null) {
      if (!(userId instanceof String id)) {
        throw ApiError.invalidType("metadata.user_id", "a string");
      }
      chat.put("user", id);
    }
  }

  private static Set<String> tools(Object value, JsonObject chat) {
    Set<String> names = new HashSet<>();
    if (value == null) {
      return names;
    }
    if (!(value instanceof JsonArray tools)) {
      throw ApiError.invalidType("tools", "an array of {\"name\", \"description\", \"input_schema\"} objects");
    }
    JsonArray functions = new JsonArray();
    for (int i = 0; i < tools.size(); i++) {
      String param = "tools[" + i + "]";
      if (!(tools.getValue(i) instanceof JsonObject tool)) {
        throw ApiError.invalidType(param, "an object with 'name' and 'input_schema'");
      }
      Object type = tool.getValue("type");
      if (type != null && !"custom".equals(type)) {
        throw ApiError.invalid(param + ".type", "'" + param + "' is Anthropic's server tool " + describe(type)
            + "; this gateway serves only client tools ({\"name\", \"description\", \"input_schema\"}), which your "
            + "program runs.");
      }
      if (!(tool.getValue("name") instanceof String name) || name.isEmpty()) {
        throw ApiError.invalidType(param + ".name", "a non-empty string");
      }
      if (!names.add(name)) {
        throw ApiError.invalid(param + ".name", "Tool names must be unique; '" + name + "' appears twice.");
      }
      Object schema = tool.getValue("input_schema");
      if (!(schema instanceof JsonObject)) {
        throw ApiError.invalidType(param + ".input_schema", "a JSON Schema object, e.g. {\"type\": \"object\", "
            + "\"properties\": {}}");
      }
      Object description = tool.getValue("description");
      if (description != null && !(description instanceof String)) {
        throw ApiError.invalidType(param + ".description", "a string");
      }
      JsonObject function = new JsonObject().put("name", name);
      if (description != null) {
        function.put("description", description);
      }
      function.put("parameters", schema);
      functions.add(new JsonObject().put("type", "function").put("function", function));
    }
    if (!functions.isEmpty()) {
      chat.put("tools", functions);
    }
    return names;
  }

  private static void toolChoice(Object value, Set<String> toolNames, JsonObject chat) {
    if (value == null) {
      return;
    }
    List<String> types = List.of("auto", "any", "tool", "none");
    if (!(value instanceof JsonObject choice) || !(choice.getValue("type") instanceof String type)
        || !types.contains(type)) {
      throw ApiError.invalid("tool_choice", "'tool_choice' must be an object whose 'type' is one of " + types
          + ", e.g. {\"type\": \"auto\"}.");
    }
    if (!"none".equals(type) && toolNames.isEmpty()) {
      throw ApiError.invalid("tool_choice", "'tool_choice' is " + type + " but the request has no 'tools'. Add the "
          + "tools, or remove 'tool_choice'.");
    }
    switch (type) {
      case "auto" -> chat.put("tool_choice", "auto");
      case "any" -> chat.put("tool_choice", "required");
      case "none" -> chat.put("tool_choice", "none");
      default -> {
        if (!(choice.getValue("name") instanceof String name) || !toolNames.contains(name)) {
          throw ApiError.invalid("tool_choice.name", "'tool_choice' of type tool must name one of the request's "
              + "tools (" + String.join(", ", new java.util.TreeSet<>(toolNames)) + "), got "
              + describe(choice.getValue("name")) + ".");
        }
        chat.put("tool_choice", new JsonObject().put("type", "function")
            .put("function", new JsonObject().put("name", name)));
      }
    }
    Object disableParallel = choice.getValue("disable_parallel_tool_use");
    if (disableParallel != null) {
      if (!(disableParallel instanceof Boolean disable)) {
        throw ApiError.invalidType("tool_choice.disable_parallel_tool_use", "a boolean (true or false)");
      }
      if (disable && !"none".equals(type)) {
        chat.put("parallel_tool_calls", false);
      }
    }
  }

  private static void thinking(Object value) {
    if (value == null) {
      return;
    }
    if (!(value instanceof JsonObject thinking) || !(thinking.getValue("type") instanceof String type)
        || !List.of("enabled", "disabled", "adaptive").contains(type)) {
      throw ApiError.invalid("thinking", "'thinking' must be {\"type\": \"enabled\", \"budget_tokens\": N}, "
          + "{\"type\": \"disabled\"} or {\"type\": \"adaptive\"}.");
    }
    Object budget = thinking.getValue("budget_tokens");
    if ("enabled".equals(type) && (!(budget instanceof Number number)
        || number.doubleValue() != Math.rint(number.doubleValue()) || number.longValue() < 1)) {
      throw ApiError.invalid("thinking.budget_tokens", "'thinking.budget_tokens' must be a positive integer when "
          + "thinking is enabled, e.g. 2048.");
    }
  }

  static String describe(Object value) {
    return RequestValidator.describe(value);
  }

}
