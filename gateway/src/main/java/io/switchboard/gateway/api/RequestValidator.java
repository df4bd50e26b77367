package io.switchboard.gateway.api;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.security.LimitOptions;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checks a chat or completion body the way OpenAI's API does (types, ranges, required fields, message roles)
 * and reads it into a {@link CompletionRequest}. Every failure is a 400 {@link ApiError} whose {@code param}
 * names the field, e.g. {@code messages[2].role}. Fields it does not know pass through untouched, for
 * backends that support them.
 */
public final class RequestValidator {

  static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");
  static final int MAX_STOP_SEQUENCES = 4;
  /**
   * Most alternatives per token a client may ask log probabilities for (OpenAI's limit for top_logprobs; vLLM's
   * default max_logprobs). Backends that take any number (llama-server) would otherwise send the whole vocabulary
   * with every token.
   */
  static final int MAX_LOGPROBS = 20;

  private final LimitOptions limits;

  public RequestValidator() {
    this(new LimitOptions());
  }

  /** @param limits the gateway's caps on messages and {@code max_tokens} */
  public RequestValidator(LimitOptions limits) {
    this.limits = limits;
  }

  public CompletionRequest validate(RequestKind kind, Buffer rawBody) {
    return validate(kind, parseObject(rawBody));
  }

  /**
   * Validates a chat body another dialect translated its request into, whose {@code max_tokens} is a ceiling, not a
   * demand (Anthropic's {@code max_tokens}, the Responses API's {@code max_output_tokens}): agents set them from what
   * they believe of the model, e.g. Claude Code's 32,000, often beyond the model's context or the gateway's cap. Such a
   * request is not refused: the limit goes to the worker as the request's cap (at most gateway.limits.maxTokens), and
   * the worker bounds it further by the model's context, as for a request without a limit; an answer stopped there
   * ends with finish reason {@code length}.
   */
  public CompletionRequest validateWithTokenCeiling(JsonObject body) {
    Integer ceiling = positiveInt(body, "max_tokens");
    body.remove("max_tokens");
    CompletionRequest request = validate(RequestKind.CHAT, body);
    if (ceiling == null) {
      return request;
    }
    SamplingParams sampling = request.sampling();
    Integer cap = sampling.tokenCap() == null ? ceiling : Integer.valueOf(Math.min(ceiling, sampling.tokenCap()));
    return new CompletionRequest(request.kind(), request.model(), request.body(), request.prompt(),
        new SamplingParams(null, sampling.temperature(), sampling.topP(), sampling.stop(), sampling.seed(), cap),
        request.stream(), request.includeUsage());
  }

  /**
   * Validates a chat or completion body already parsed, e.g. one another dialect translated its request into (no
   * encoding and parsing again).
   */
  public CompletionRequest validate(RequestKind kind, JsonObject body) {
    String model = requireString(body, "model");
    if (model.isBlank()) {
      throw ApiError.invalid("model", "'model' must not be empty; GET /v1/models lists the models served.");
    }
    String prompt = kind == RequestKind.CHAT ? chatPrompt(body) : completionPrompt(body);
    boolean stream = optionalBoolean(body, "stream", false);
    boolean includeUsage = false;
    Object streamOptions = body.getValue("stream_options");
    if (streamOptions != null) {
      if (!(streamOptions instanceof JsonObject options)) {
        throw ApiError.invalidType("stream_options", "an object such as {\"include_usage\": true}");
      }
      if (!stream) {
        throw ApiError.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.");
      }
      includeUsage = optionalBoolean(options, "include_usage", "stream_options.include_usage", false);
    }
    Integer maxTokens = maxTokens(body, kind);
    double temperature = optionalNumber(body, "temperature", 0, 2, SamplingParams.DEFAULT_TEMPERATURE);
    double topP = optionalNumber(body, "top_p", 0, 1, SamplingParams.DEFAULT_TOP_P);
    optionalNumber(body, "presence_penalty", -2, 2, 0);
    optionalNumber(body, "frequency_penalty", -2, 2, 0);
    requireOne(body, "n");
    if (kind == RequestKind.COMPLETION) {
      requireOne(body, "best_of");
    }
    logprobsCount(body, kind == RequestKind.CHAT ? "top_logprobs" : "logprobs");
    Long seed = optionalInteger(body, "seed");
    Object user = body.getValue("user");
    if (user != null && !(user instanceof String)) {
      throw ApiError.invalidType("user", "a string");
    }
    // The cap goes to the worker as well: it bounds a generation whose client set no limit (see backends.md).
    Integer tokenCap = limits.getMaxTokens() > 0 ? limits.getMaxTokens() : null;
    return new CompletionRequest(kind, model, body, prompt,
        new SamplingParams(maxTokens, temperature, topP, stops(body), seed, tokenCap), stream, includeUsage);
  }

  /** Most inputs one embeddings request may carry, as OpenAI allows. */
  static final int MAX_EMBEDDING_INPUTS = 2048;

  /**
   * Validates a {@code POST /v1/embeddings} body: {@code model}, {@code input} (a string, a list of strings, a
   * list of token ids or a list of token-id lists), optional {@code encoding_format} ("float" or "base64"),
   * {@code dimensions} and {@code user}. Everything else passes through to the backend.
   */
  public CompletionRequest validateEmbedding(Buffer rawBody) {
    JsonObject body = parseObject(rawBody);
    String model = requireString(body, "model");
    if (model.isBlank()) {
      throw ApiError.invalid("model", "'model' must not be empty; GET /v1/models lists the models served.");
    }
    String text = embeddingInput(body);
    Object format = body.getValue("encoding_format");
    if (format != null && !"float".equals(format) && !"base64".equals(format)) {
      throw ApiError.invalid("encoding_format", "'encoding_format' must be \"float\" or \"base64\", got "
          + describe(format) + ".");
    }
    positiveInt(body, "dimensions");
    Object user = body.getValue("user");
    if (user != null && !(user instanceof String)) {
      throw ApiError.invalidType("user", "a string");
    }
    if (body.containsKey("stream")) {
      throw ApiError.invalid("stream", "'stream' is not supported for embeddings; remove it.");
    }
    return new CompletionRequest(RequestKind.EMBEDDING, model, body, text,
        new SamplingParams(null, SamplingParams.DEFAULT_TEMPERATURE, SamplingParams.DEFAULT_TOP_P, List.of(), null),
        false, false);
  }

  /** The inputs as text, one per line (token-id inputs count as their ids), after checking their shape. */
  private static String embeddingInput(JsonObject body) {
    Object input = body.getValue("input");
    String shape = "a string, an array of strings, an array of token ids, or an array of token-id arrays";
    if (input == null) {
      throw ApiError.missing("input", "'input' is required: " + shape + ".");
    }
    if (input instanceof String text) {
      if (text.isEmpty()) {
        throw ApiError.invalid("input", "'input' must not be an empty string.");
      }
      return text;
    }
    if (!(input instanceof JsonArray items)) {
      throw ApiError.invalidType("input", shape);
    }
    if (items.isEmpty()) {
      throw ApiError.invalid("input", "'input' must not be an empty array.");
    }
    if (items.size() > MAX_EMBEDDING_INPUTS) {
      throw ApiError.invalid("input", "'input' holds " + items.size() + " items; at most " + MAX_EMBEDDING_INPUTS
          + " are allowed per request. Split it into several requests.");
    }
    StringBuilder text = new StringBuilder();
    boolean strings = items.getValue(0) instanceof String;
    boolean tokens = items.getValue(0) instanceof Number;
    for (int i = 0; i < items.size(); i++) {
      Object item = items.getValue(i);
      String param = "input[" + i + "]";
      if (strings) {
        if (!(item instanceof String itemText)) {
          throw ApiError.invalidType(param, "a string (every item of 'input' must have the same type)");
        }
        if (itemText.isEmpty()) {
          throw ApiError.invalid(param, "'" + param + "' must not be an empty string.");
        }
        text.append(itemText).append('\n');
      } else if (tokens) {
        text.append(tokenId(item, param)).append(' ');
      } else if (item instanceof JsonArray ids && !ids.isEmpty()) {
        for (int t = 0; t < ids.size(); t++) {
          text.append(tokenId(ids.getValue(t), param + "[" + t + "]")).append(' ');
        }
        text.append('\n');
      } else {
        throw ApiError.invalidType(param, "a string, a token id, or a non-empty array of token ids");
      }
    }
    return text.toString();
  }

  private static long tokenId(Object value, String param) {
    if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
        || number.longValue() < 0) {
      throw ApiError.invalidType(param, "a token id (a whole number >= 0)");
    }
    return number.longValue();
  }

  /**
   * Parses a request body that must be a JSON object of strict UTF-8.
   *
   * @throws ApiError 400 {@code invalid_json} naming what is wrong
   */
  public static JsonObject parseObject(Buffer raw) {
    if (raw == null || raw.length() == 0) {
      throw new ApiError(400, "invalid_request_error", "invalid_json", null,
          "The request body is empty. Send a JSON object such as {\"model\": \"mock-llm\", \"messages\": "
              + "[{\"role\": \"user\", \"content\": \"hi\"}]} with content-type application/json.");
    }
    Object parsed;
    try {
      byte[] bytes = raw.getBytes();
      // Well-formed UTF-8 goes to Jackson's byte parser as it is; anything else is decoded strictly first, so
      // that a malformed byte is named as such (and not read leniently).
      parsed = PlainUtf8.check(bytes) ? Json.CODEC.fromBuffer(raw, Object.class) : Json.decodeValue(strictUtf8(bytes));
    } catch (DecodeException | IllegalStateException malformed) {
      throw new ApiError(400, "invalid_request_error", "invalid_json", null,
          "We could not parse the JSON body of your request: " + shortReason(malformed)
              + ". Check the JSON syntax (quotes, commas, brackets) and that it is UTF-8.");
    }
    if (!(parsed instanceof JsonObject object)) {
      throw new ApiError(400, "invalid_request_error", "invalid_json", null,
          "The request body must be a JSON object, not " + describe(parsed) + ".");
    }
    return object;
  }

  /**
   * The body as text, refusing anything that is not UTF-8. Jackson's byte parser is lenient: it takes overlong
   * forms, encoded UTF-16 surrogates, code points past U+10FFFF and UTF-16/32 bodies without complaint.
   */
  private static String strictUtf8(byte[] raw) {
    ByteBuffer in = ByteBuffer.wrap(raw);
    CharBuffer out = CharBuffer.allocate(in.remaining());
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw new ApiError(400, "invalid_request_error", "invalid_json", null,
          "The request body is not valid UTF-8 (bad byte sequence at offset " + in.position()
              + "). Send the JSON encoded as UTF-8.");
    }
    String text = out.flip().toString();
    return text.startsWith("\uFEFF") ? text.substring(1) : text;
  }

  private static String shortReason(Exception e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    message = newline > 0 ? message.substring(0, newline) : message;
    return message.length() > 200 ? message.substring(0, 200) + "..." : message;
  }

  private String chatPrompt(JsonObject body) {
    Object value = body.getValue("messages");
    if (value == null) {
      throw ApiError.missing("messages", "'messages' is required: a list of {\"role\", \"content\"} objects.");
    }
    if (!(value instanceof JsonArray messages)) {
      throw ApiError.invalidType("messages", "an array of message objects");
    }
    if (messages.isEmpty()) {
      throw ApiError.invalid("messages", "'messages' must contain at least one message.");
    }
    if (messages.size() > limits.getMaxMessages()) {
      throw ApiError.invalid("messages", "'messages' holds " + messages.size() + " messages; this gateway accepts at "
          + "most " + limits.getMaxMessages() + " (gateway.limits.maxMessages). Shorten the conversation.");
    }
    StringBuilder prompt = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      String param = "messages[" + i + "]";
      if (!(messages.getValue(i) instanceof JsonObject message)) {
        throw ApiError.invalidType(param, "an object with 'role' and 'content'");
      }
      Object role = message.getValue("role");
      if (role == null) {
        throw ApiError.missing(param + ".role", "'" + param + ".role' is required (one of " + sorted(ROLES) + ").");
      }
      if (!(role instanceof String roleName) || !ROLES.contains(roleName)) {
        throw ApiError.invalid(param + ".role", "'" + param + ".role' must be one of " + sorted(ROLES) + ", got "
            + describe(role) + ".");
      }
      String content = messageContent(message, param, roleName);
      prompt.append(roleName).append(": ").append(content).append('\n');
    }
    return prompt.toString();
  }

  private static String messageContent(JsonObject message, String param, String role) {
    Object content = message.getValue("content");
    if (content == null) {
      boolean mayBeEmpty = "assistant".equals(role) && (message.containsKey("tool_calls")
          || message.containsKey("function_call"));
      if (!mayBeEmpty) {
        throw ApiError.missing(param + ".content", "'" + param + ".content' is required for role '" + role
            + "' (a string, or an array of content parts).");
      }
      return "";
    }
    if (content instanceof String text) {
      return text;
    }
    if (content instanceof JsonArray parts) {
      StringBuilder text = new StringBuilder();
      for (int p = 0; p < parts.size(); p++) {
        String partParam = param + ".content[" + p + "]";
        if (!(parts.getValue(p) instanceof JsonObject part) || !(part.getValue("type") instanceof String type)) {
          throw ApiError.invalidType(partParam, "an object with a 'type', e.g. {\"type\": \"text\", \"text\": \"hi\"}");
        }
        if ("text".equals(type)) {
          if (!(part.getValue("text") instanceof String partText)) {
            throw ApiError.invalidType(partParam + ".text", "a string");
          }
          text.append(partText);
        }
      }
      return text.toString();
    }
    throw ApiError.invalidType(param + ".content", "a string or an array of content parts");
  }

  private static String completionPrompt(JsonObject body) {
    Object prompt = body.getValue("prompt");
    if (prompt == null) {
      throw ApiError.missing("prompt", "'prompt' is required: the text to complete.");
    }
    if (prompt instanceof String text) {
      return text;
    }
    if (prompt instanceof JsonArray array) {
      if (array.size() == 1 && array.getValue(0) instanceof String single) {
        return single;
      }
      throw ApiError.invalid("prompt", "'prompt' must be a single string (or an array holding one string); "
          + "batched and token-id prompts are not supported: send one request per prompt.");
    }
    throw ApiError.invalidType("prompt", "a string");
  }

  private Integer maxTokens(JsonObject body, RequestKind kind) {
    Integer maxTokens = capped(body, "max_tokens");
    if (kind == RequestKind.CHAT) {
      // OpenAI's newer name wins when both are given; both must be valid.
      Integer maxCompletionTokens = capped(body, "max_completion_tokens");
      return maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
    }
    return maxTokens;
  }

  private Integer capped(JsonObject body, String field) {
    Integer value = positiveInt(body, field);
    if (value != null && limits.getMaxTokens() > 0 && value > limits.getMaxTokens()) {
      throw ApiError.invalid(field, "'" + field + "' is " + value + "; this gateway allows at most "
          + limits.getMaxTokens() + " (gateway.limits.maxTokens).");
    }
    return value;
  }

  private static Integer positiveInt(JsonObject body, String field) {
    Long value = optionalInteger(body, field);
    if (value == null) {
      return null;
    }
    if (value < 1 || value > Integer.MAX_VALUE) {
      throw ApiError.invalid(field, "'" + field + "' must be a positive integer, got " + value + ".");
    }
    return value.intValue();
  }

  private static void logprobsCount(JsonObject body, String field) {
    Long value = optionalInteger(body, field);
    if (value != null && (value < 0 || value > MAX_LOGPROBS)) {
      throw ApiError.invalid(field, "'" + field + "' must be between 0 and " + MAX_LOGPROBS + ", got " + value + ".");
    }
  }

  private static List<String> stops(JsonObject body) {
    Object stop = body.getValue("stop");
    if (stop == null) {
      return List.of();
    }
    List<String> stops = new ArrayList<>();
    if (stop instanceof String single) {
      stops.add(single);
    } else if (stop instanceof JsonArray array) {
      if (array.size() > MAX_STOP_SEQUENCES) {
        throw ApiError.invalid("stop", "'stop' takes at most " + MAX_STOP_SEQUENCES + " sequences, got "
            + array.size() + ".");
      }
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String text)) {
          throw ApiError.invalidType("stop[" + i + "]", "a string");
        }
        stops.add(text);
      }
    } else {
      throw ApiError.invalidType("stop", "a string or an array of up to 4 strings");
    }
    for (int i = 0; i < stops.size(); i++) {
      if (stops.get(i).isEmpty()) {
        throw ApiError.invalid("stop", "stop sequences must not be empty strings.");
      }
    }
    return stops;
  }

  private static String requireString(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      throw ApiError.missing(field, "'" + field + "' is required; GET /v1/models lists the models served.");
    }
    if (!(value instanceof String text)) {
      throw ApiError.invalidType(field, "a string");
    }
    return text;
  }

  private static boolean optionalBoolean(JsonObject body, String field, boolean fallback) {
    return optionalBoolean(body, field, field, fallback);
  }

  private static boolean optionalBoolean(JsonObject body, String field, String param, boolean fallback) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Boolean flag)) {
      throw ApiError.invalidType(param, "a boolean (true or false)");
    }
    return flag;
  }

  private static double optionalNumber(JsonObject body, String field, double min, double max, double fallback) {
    Object value = body.getValue(field);
    if (value == null) {
      return fallback;
    }
    if (!(value instanceof Number number)) {
      throw ApiError.invalidType(field, "a number between " + fmt(min) + " and " + fmt(max));
    }
    double d = number.doubleValue();
    if (Double.isNaN(d) || d < min || d > max) {
      throw ApiError.invalid(field, "'" + field + "' must be between " + fmt(min) + " and " + fmt(max) + ", got "
          + number + ".");
    }
    return d;
  }

  private static Long optionalInteger(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof Number number && number.doubleValue() == Math.rint(number.doubleValue())) {
      if (Math.abs(number.doubleValue()) >= 9.0e15) {
        throw ApiError.invalid(field, "'" + field + "' is out of range: " + number + ".");
      }
      return number.longValue();
    }
    throw ApiError.invalidType(field, "an integer");
  }

  private static void requireOne(JsonObject body, String field) {
    Long value = optionalInteger(body, field);
    if (value != null && value != 1) {
      throw ApiError.invalid(field, "'" + field + "' must be 1: several choices per request are not supported; "
          + "send separate requests instead.");
    }
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  /** A client's value as error messages show it: its type, and a short string or number itself. */
  public static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }
    if (value instanceof JsonArray) {
      return "an array";
    }
    if (value instanceof JsonObject) {
      return "an object";
    }
    return "a " + value.getClass().getSimpleName().toLowerCase() + " (" + value + ")";
  }

  private static List<String> sorted(Set<String> values) {
    return values.stream().sorted().toList();
  }
}
