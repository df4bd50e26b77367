package io.switchboard.worker.openai;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PlainEventReaderTest {

  @Test
  void aStreamOfLikeEventsIsReadInFullOnceAndTheRestByComparison() {
    PlainEventReader reader = new PlainEventReader(true);
    List<String> events = new ArrayList<>();
    events.add(chatEvent("c1", new JsonObject().put("role", "assistant").put("content", ""), null).encode());
    for (int i = 0; i < 16; i++) {
      events.add(chatEvent("c1", new JsonObject().put("content", " token" + i), null).encode());
    }
    events.add(chatEvent("c1", new JsonObject(), "length").encode());

    StringBuilder text = new StringBuilder();
    for (String event : events) {
      PlainChunk chunk = read(reader, event);
      assertThat(chunk).isEqualTo(PlainChunk.read(bytes(event), 0, bytes(event).length, true));
      if (chunk.text() != null) {
        text.append(chunk.text());
      }
    }
    assertThat(text).hasToString(" token0 token1 token2 token3 token4 token5 token6 token7 token8 token9 token10"
        + " token11 token12 token13 token14 token15");
    assertThat(reader.fullReads()).as("the role event, the first text event, the finish event").isEqualTo(3);
  }

  @Test
  void everyEventReadsExactlyAsAFullReadWouldWhateverChangesBetweenEvents() {
    // Streams of events that mostly differ only in text, with now and then another id, another field order,
    // whitespace, escapes, a raw control character, a tool call, a cut-short event or a finish: the reader must
    // answer for each exactly what a full read answers.
    Random random = new Random(20261123);
    for (int stream = 0; stream < 300; stream++) {
      boolean chat = random.nextBoolean();
      PlainEventReader reader = new PlainEventReader(chat);
      for (int n = 0; n < 40; n++) {
        String event = randomEvent(random, chat);
        byte[] bytes = bytes("  " + event + " ");
        assertThat(reader.read(bytes, 2, bytes.length - 3)).as(event)
            .isEqualTo(PlainChunk.read(bytes, 2, bytes.length - 3, chat));
      }
    }
  }

  private static String randomEvent(Random random, boolean chat) {
    String text = randomText(random);
    String id = random.nextInt(10) == 0 ? "c" + random.nextInt(3) : "c0";
    String finish = random.nextInt(12) == 0 ? "stop" : null;
    JsonObject event = chat
        ? chatEvent(id, random.nextInt(15) == 0 ? new JsonObject().put("tool_calls", new JsonArray())
            : new JsonObject().put("content", text), finish)
        : new JsonObject().put("id", id).put("object", "text_completion").put("choices", new JsonArray()
            .add(new JsonObject().put("index", 0).put("text", text).put("finish_reason", finish)));
    String encoded = event.encode();
    switch (random.nextInt(14)) {
      case 0 -> encoded = encoded.replace(",", ", ");
      case 1 -> encoded = encoded.substring(0, random.nextInt(encoded.length()));
      case 2 -> encoded = encoded.replace("\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"", "\"a\u0001b\"");
      case 3 -> encoded = encoded.replace("\"id\"", "\"xid\"");
      case 4 -> encoded = "{\"usage\":{\"prompt_tokens\":" + random.nextInt(9) + "}," + encoded.substring(1);
      default -> {
      }
    }
    return encoded;
  }

  private static String randomText(Random random) {
    StringBuilder text = new StringBuilder();
    int length = random.nextInt(8);
    for (int i = 0; i < length; i++) {
      text.appendCodePoint(switch (random.nextInt(5)) {
        case 0 -> "\"\\/\n".charAt(random.nextInt(4));
        case 1 -> 0xE9 + random.nextInt(30);
        case 2 -> 0x1F600 + random.nextInt(40);
        default -> 'a' + random.nextInt(26);
      });
    }
    return text.toString();
  }

  private static JsonObject chatEvent(String id, JsonObject delta, String finish) {
    return new JsonObject().put("id", id).put("object", "chat.completion.chunk").put("created", 0)
        .put("model", "m").put("choices", new JsonArray().add(new JsonObject().put("index", 0)
            .put("delta", delta).put("finish_reason", finish)));
  }

  private static PlainChunk read(PlainEventReader reader, String event) {
    byte[] bytes = bytes(event);
    return reader.read(bytes, 0, bytes.length);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
