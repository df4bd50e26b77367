package io.switchboard.gatling;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The verdict on one server-sent event of a streamed chat completion, from the text Gatling hands an SSE check:
 * the event as a JSON object whose {@code data} field is the event's data as a string (plus {@code event},
 * {@code id} and {@code retry} when the server sent them).
 *
 * <p>An event is {@link #DONE} ({@code data: [DONE]}), a {@link #CONTENT_CHUNK} (a {@code chat.completion.chunk}
 * with text in a choice's delta), a {@link #CHUNK_WITHOUT_CONTENT} (the role chunk, the finish chunk, the usage
 * chunk) or anything else, whose verdict starts with {@link #INVALID_PREFIX} and says what is wrong, so that a
 * failed check in the Gatling report names the fault and quotes the event.
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

  static String verdict(String gatlingEvent) {
    JsonNode data = parse(gatlingEvent).path("data");
    if (!data.isTextual()) {
      return invalid("no data", gatlingEvent);
    }
    String text = data.asText();
    if (DONE.equals(text)) {
      return DONE;
    }
    JsonNode chunk = parse(text);
    if (!chunk.isObject()) {
      return invalid("data is not a JSON object", text);
    }
    if (chunk.has("error")) {
      return invalid("an error event", text);
    }
    if (!"chat.completion.chunk".equals(chunk.path("object").asText())) {
      return invalid("object is not chat.completion.chunk", text);
    }
    if (chunk.path("id").asText().isEmpty()) {
      return invalid("no id", text);
    }
    JsonNode choices = chunk.path("choices");
    if (!choices.isArray()) {
      return invalid("no choices array", text);
    }
    if (choices.isEmpty() && !chunk.path("usage").isObject()) {
      return invalid("no choice and no usage", text);
    }
    boolean content = false;
    for (JsonNode choice : choices) {
      if (!choice.path("index").isInt() || !choice.path("delta").isObject()) {
        return invalid("a choice without index or delta", text);
      }
      JsonNode delta = choice.path("delta").path("content");
      content |= delta.isTextual() && !delta.asText().isEmpty();
    }
    return content ? CONTENT_CHUNK : CHUNK_WITHOUT_CONTENT;
  }

  /** Whether the event is a well-formed chunk, with or without content (not {@code [DONE]}, not invalid). */
  static boolean isChunk(String gatlingEvent) {
    String verdict = verdict(gatlingEvent);
    return CONTENT_CHUNK.equals(verdict) || CHUNK_WITHOUT_CONTENT.equals(verdict);
  }

  /** Whether the event is a well-formed chunk that carries no text (the role, finish or usage chunk). */
  static boolean isChunkWithoutContent(String gatlingEvent) {
    return CHUNK_WITHOUT_CONTENT.equals(verdict(gatlingEvent));
  }

  private static JsonNode parse(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return JSON.missingNode();
    }
  }

  private static String invalid(String why, String text) {
    String quoted = text.length() > QUOTED_CHARS ? text.substring(0, QUOTED_CHARS) + "..." : text;
    return INVALID_PREFIX + why + ": " + quoted;
  }
}
