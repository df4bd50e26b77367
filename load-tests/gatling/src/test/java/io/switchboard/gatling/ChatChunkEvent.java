package io.switchboard.gatling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The verdict on one server-sent event of a streamed chat completion, from its data (what followed {@code data: }).
 *
 * <p>An event is {@link #DONE} ({@code data: [DONE]}), a {@link #CONTENT_CHUNK} (a {@code chat.completion.chunk}
 * with text in a choice's delta), a {@link #CHUNK_WITHOUT_CONTENT} (the role chunk, the finish chunk, the usage
 * chunk) or anything else, whose verdict starts with {@link #INVALID_PREFIX}, says what is wrong and quotes the data,
 * so that a failed check in the Gatling report names the fault.
 */
final class ChatChunkEvent {

  static final String DONE = "[DONE]";
  static final String CONTENT_CHUNK = "chunk with content";
  static final String CHUNK_WITHOUT_CONTENT = "chunk without content";
  static final String INVALID_PREFIX = "invalid event: ";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int QUOTED_CHARS = 300;

  private ChatChunkEvent() {
  }

  static String verdict(String data) {
    if (DONE.equals(data)) {
      return DONE;
    }
    JsonNode chunk = parse(data);
    if (!chunk.isObject()) {
      return invalid("data is not a JSON object", data);
    }
    if (chunk.has("error")) {
      return invalid("an error event", data);
    }
    if (!"chat.completion.chunk".equals(chunk.path("object").asText())) {
      return invalid("object is not chat.completion.chunk", data);
    }
    if (chunk.path("id").asText().isEmpty()) {
      return invalid("no id", data);
    }
    JsonNode choices = chunk.path("choices");
    if (!choices.isArray()) {
      return invalid("no choices array", data);
    }
    if (choices.isEmpty() && !chunk.path("usage").isObject()) {
      return invalid("no choice and no usage", data);
    }
    boolean content = false;
    for (JsonNode choice : choices) {
      if (!choice.path("index").isInt() || !choice.path("delta").isObject()) {
        return invalid("a choice without index or delta", data);
      }
      JsonNode delta = choice.path("delta").path("content");
      content |= delta.isTextual() && !delta.asText().isEmpty();
    }
    return content ? CONTENT_CHUNK : CHUNK_WITHOUT_CONTENT;
  }

  /** Whether the event is a well-formed chunk, with or without content (not {@code [DONE]}, not invalid). */
  static boolean isChunk(String data) {
    String verdict = verdict(data);
    return CONTENT_CHUNK.equals(verdict) || CHUNK_WITHOUT_CONTENT.equals(verdict);
  }

  /** Whether the event is a well-formed chunk that carries no text (the role, finish or usage chunk). */
  static boolean isChunkWithoutContent(String data) {
    return CHUNK_WITHOUT_CONTENT.equals(verdict(data));
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return JSON.missingNode();
    }
  }

  private static String invalid(String why, String data) {
    String quoted = data.length() > QUOTED_CHARS ? data.substring(0, QUOTED_CHARS) + "..." : data;
    return INVALID_PREFIX + why + ": " + quoted;
  }
}
