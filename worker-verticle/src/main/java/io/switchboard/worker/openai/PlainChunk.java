package io.switchboard.worker.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * The common stream event, read without building a JSON tree: its first choice's text and finish reason, and
 * usage. Almost every event of a stream is only that, and parsing each into maps was a third of a proxied
 * request's CPU time. An event with anything more (tool calls, reasoning or other delta fields, logprobs, an
 * error) is not plain: {@link #read} returns null and the caller takes the full path.
 *
 * @param choices      whether the event had a non-empty {@code choices} array
 * @param promptTokens -1 when the event carried no usage
 */
record PlainChunk(boolean choices, String text, String finishReason, int promptTokens, int completionTokens,
                  int cachedTokens) {

  private static final JsonFactory JSON = new JsonFactory();

  /**
   * @param data UTF-8 JSON, {@code length} bytes from {@code offset} (read from the bytes: no String first)
   * @param chat whether the text is {@code choices[0].delta.content} (chat) or {@code choices[0].text}
   */
  static PlainChunk read(byte[] data, int offset, int length, boolean chat) {
    try (JsonParser parser = JSON.createParser(data, offset, length)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      Reading reading = new Reading();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "choices" -> {
            if (!readChoices(parser, value, chat, reading)) {
              return null;
            }
          }
          case "usage" -> {
            if (value == JsonToken.START_OBJECT) {
              readUsage(parser, reading);
            } else if (value != JsonToken.VALUE_NULL) {
              return null;
            }
          }
          case "error" -> {
            return null;
          }
          default -> parser.skipChildren();
        }
      }
      if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
        return null;
      }
      return new PlainChunk(reading.choices, reading.text, reading.finishReason, reading.promptTokens,
          reading.completionTokens, reading.cachedTokens);
    } catch (IOException | RuntimeException notPlain) {
      return null;
    }
  }

  private static final class Reading {
    boolean choices;
    String text;
    String finishReason;
    int promptTokens = -1;
    int completionTokens;
    int cachedTokens;
  }

  private static boolean readChoices(JsonParser parser, JsonToken value, boolean chat, Reading reading)
      throws IOException {
    if (value == JsonToken.VALUE_NULL) {
      return true;
    }
    if (value != JsonToken.START_ARRAY) {
      return false;
    }
    boolean first = true;
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (!first) {
        parser.skipChildren();
        continue;
      }
      first = false;
      if (parser.currentToken() != JsonToken.START_OBJECT || !readChoice(parser, chat, reading)) {
        return false;
      }
      reading.choices = true;
    }
    return true;
  }

  private static boolean readChoice(JsonParser parser, boolean chat, Reading reading) throws IOException {
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "delta" -> {
          if (!chat || value != JsonToken.START_OBJECT || !readDelta(parser, reading)) {
            return false;
          }
        }
        case "text" -> {
          if (chat || (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL)) {
            return false;
          }
          reading.text = parser.getValueAsString();
        }
        case "finish_reason" -> {
          if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
            return false;
          }
          reading.finishReason = parser.getValueAsString();
        }
        case "logprobs" -> {
          if (value != JsonToken.VALUE_NULL) {
            return false;
          }
        }
        default -> parser.skipChildren();
      }
    }
    return true;
  }

  private static boolean readDelta(JsonParser parser, Reading reading) throws IOException {
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if (field.equals("content")) {
        if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
          return false;
        }
        reading.text = parser.getValueAsString();
      } else if (field.equals("role")) {
        parser.skipChildren();
      } else if (value != JsonToken.VALUE_NULL) {
        // tool calls, reasoning, anything else: the full path passes it on
        return false;
      }
    }
    return true;
  }

  private static void readUsage(JsonParser parser, Reading reading) throws IOException {
    reading.promptTokens = 0;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "prompt_tokens" -> reading.promptTokens = value.isNumeric() ? parser.getIntValue() : 0;
        case "completion_tokens" -> reading.completionTokens = value.isNumeric() ? parser.getIntValue() : 0;
        case "prompt_tokens_details" -> {
          if (value == JsonToken.START_OBJECT) {
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
              String detail = parser.currentName();
              JsonToken detailValue = parser.nextToken();
              if (detail.equals("cached_tokens") && detailValue.isNumeric()) {
                reading.cachedTokens = parser.getIntValue();
              } else {
                parser.skipChildren();
              }
            }
          }
        }
        default -> parser.skipChildren();
      }
    }
  }
}
