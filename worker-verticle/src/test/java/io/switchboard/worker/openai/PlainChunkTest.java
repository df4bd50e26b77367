package io.switchboard.worker.openai;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PlainChunkTest {

  @Test
  void aChatDeltaWithTextAndNoExtrasIsReadWithoutATree() {
    PlainChunk chunk = read("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\" hi\"},"
        + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}", true);

    assertThat(chunk).isEqualTo(new PlainChunk(true, " hi", null, -1, 0, 0));
  }

  @Test
  void finishReasonUsageAndCompletionTextAreRead() {
    assertThat(read("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}", true))
        .isEqualTo(new PlainChunk(true, null, "length", -1, 0, 0));
    assertThat(read("{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":16,"
        + "\"total_tokens\":21,\"prompt_tokens_details\":{\"cached_tokens\":3}}}", true))
        .isEqualTo(new PlainChunk(false, null, null, 5, 16, 3));
    assertThat(read("{\"choices\":[{\"index\":0,\"text\":\"once\",\"finish_reason\":null}]}", false))
        .isEqualTo(new PlainChunk(true, "once", null, -1, 0, 0));
  }

  @Test
  void anythingBeyondPlainTextTakesTheFullPath() {
    assertThat(read("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}", true)).isNull();
    assertThat(read("{\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\"}}]}", true)).isNull();
    assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[]}}]}", true))
        .isNull();
    assertThat(read("{\"error\":{\"message\":\"out of memory\"}}", true)).isNull();
    assertThat(read("{\"choices\":[{\"delta\":", true)).isNull();
    assertThat(read("not json", true)).isNull();
    assertThat(read("{\"choices\":[{\"text\":\"x\"}]}", true)).as("completion shape in a chat").isNull();
    assertThat(read("{\"a\":1} {\"b\":2}", true)).as("trailing content").isNull();
  }

  @Test
  void onlyTheFirstChoiceCounts() {
    assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"a\"}},{\"delta\":{\"tool_calls\":[]}}]}", true))
        .isEqualTo(new PlainChunk(true, "a", null, -1, 0, 0));
  }

  @Test
  void escapesAndUnicodeInTheTextAreDecoded() {
    assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00 \u00fc \u65e5\"}}]}",
        true).text()).isEqualTo("a\"b\\c/d\n\t\u00e9\ud83d\ude00 \u00fc \u65e5");
    assertThat(read("{\"choices\":[{\"delta\":{\"content\":\"\"}}]}", true).text()).isEmpty();
  }

  @Test
  void anyTextReadsAsAJsonParserReadsIt() {
    // Random text of every kind (quotes, backslashes, control characters, astral code points), written by a real
    // JSON encoder with and without escaping non-ASCII: the scanner must read back exactly the text.
    Random random = new Random(20261123);
    for (int i = 0; i < 3000; i++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(24);
      for (int j = 0; j < length; j++) {
        int kind = random.nextInt(6);
        text.appendCodePoint(switch (kind) {
          case 0 -> random.nextInt(0x20);
          case 1 -> "\"\\/".charAt(random.nextInt(3));
          case 2 -> 0x20 + random.nextInt(0x60);
          case 3 -> 0xA0 + random.nextInt(0x700);
          case 4 -> 0x4E00 + random.nextInt(0x5000);
          default -> 0x1F300 + random.nextInt(0x300);
        });
      }
      JsonObject event = new JsonObject().put("id", "c" + i).put("created", random.nextLong())
          .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
              .put("delta", new JsonObject().put("content", text.toString())).putNull("finish_reason")));
      String encoded = random.nextBoolean() ? event.encode() : asciiOnly(event.encode());
      assertThat(read(encoded, true)).as(encoded).isEqualTo(new PlainChunk(true, text.toString(), null, -1, 0, 0));
    }
  }

  @Test
  void everyCutShortEventIsNotPlain() {
    String event = "{\"id\":\"x\",\"created\":-1.5e3,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\u00e9b\"},"
        + "\"finish_reason\":null,\"x\":[true,false,null,{\"y\":[]}]}],\"usage\":{\"prompt_tokens\":5}}";
    assertThat(read(event, true)).isEqualTo(new PlainChunk(true, "a\u00e9b", null, 5, 0, 0));
    for (int cut = 0; cut < event.length(); cut++) {
      assertThat(read(event.substring(0, cut), true)).as(event.substring(0, cut)).isNull();
    }
  }

  @Test
  void malformedJsonIsNeverPlain() {
    for (String bad : List.of("{\"choices\":[{\"delta\":{\"content\":\"a\nb\"}}]}", "{\"choices\":01}",
        "{\"a\":tru}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":-}",
        "{\"a\":1.}", "{\"a\":[1 2]}", "[]", "{\"c\\u0068oices\":[]}", "{" + "\"a\":[".repeat(40) + "]".repeat(40) + "}")) {
      assertThat(read(bad, true)).as(bad).isNull();
    }
  }

  @Test
  void usageNumbersOfAnyShapeAreRead() {
    assertThat(read("{\"choices\":[],\"usage\":{\"prompt_tokens\":1e2,\"completion_tokens\":7.0,"
        + "\"prompt_tokens_details\":null,\"total_tokens\":\"many\"}}", true))
        .isEqualTo(new PlainChunk(false, null, null, 100, 7, 0));
    assertThat(read("{\"usage\":{\"prompt_tokens\":\"five\"}}", true))
        .isEqualTo(new PlainChunk(false, null, null, 0, 0, 0));
  }

  private static String asciiOnly(String json) {
    StringBuilder out = new StringBuilder();
    json.chars().forEach(c -> out.append(c < 0x80 ? String.valueOf((char) c) : String.format("\\u%04x", c)));
    return out.toString();
  }

  private static PlainChunk read(String event, boolean chat) {
    byte[] bytes = ("  " + event).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return PlainChunk.read(bytes, 2, bytes.length - 2, chat);
  }
}
