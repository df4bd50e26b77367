package io.switchboard.gateway.dialect.openai;

import io.switchboard.gateway.exchange.ChoiceExtras;
import io.switchboard.gateway.api.CompletionRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class OpenAiFormatTest {

  private static OpenAiFormat format(RequestKind kind, boolean stream, boolean includeUsage) {
    SamplingParams sampling = new SamplingParams(null, 1.0, 1.0, null, null);
    CompletionRequest request = new CompletionRequest(kind, "mock-llm", new JsonObject(), "p", sampling, stream,
        includeUsage);
    return new OpenAiFormat(request, "req123");
  }

  private static JsonObject onlyChoice(JsonObject chunk) {
    JsonArray choices = chunk.getJsonArray("choices");
    assertThat(choices).hasSize(1);
    JsonObject choice = choices.getJsonObject(0);
    assertThat(choice.getInteger("index")).isZero();
    assertThat(choice.containsKey("logprobs")).isTrue();
    assertThat(choice.getValue("logprobs")).isNull();
    return choice;
  }

  private static void assertEnvelope(JsonObject json, String object, String id) {
    assertThat(json.getString("id")).isEqualTo(id);
    assertThat(json.getString("object")).isEqualTo(object);
    assertThat(json.getString("model")).isEqualTo("mock-llm");
    long now = System.currentTimeMillis() / 1000;
    assertThat(json.getLong("created")).isBetween(now - 60, now + 1);
    assertThat(json.containsKey("system_fingerprint")).isTrue();
  }

  @Test
  void chatTextChunkCarriesTheTextInTheDelta() {
    JsonObject chunk = format(RequestKind.CHAT, true, false).textChunk(" hello");

    assertEnvelope(chunk, "chat.completion.chunk", "chatcmpl-req123");
    JsonObject choice = onlyChoice(chunk);
    assertThat(choice.getJsonObject("delta")).isEqualTo(new JsonObject().put("content", " hello"));
    assertThat(choice.containsKey("finish_reason")).isTrue();
    assertThat(choice.getValue("finish_reason")).isNull();
    assertThat(choice.containsKey("text")).isFalse();
    assertThat(chunk.containsKey("usage")).isFalse();
  }

  @Test
  void chatRoleChunkAnnouncesTheAssistant() {
    JsonObject chunk = format(RequestKind.CHAT, true, false).roleChunk();

    JsonObject delta = onlyChoice(chunk).getJsonObject("delta");
    assertThat(delta.getString("role")).isEqualTo("assistant");
    assertThat(delta.getString("content")).isEmpty();
    assertThat(chunk.getString("object")).isEqualTo("chat.completion.chunk");
  }

  @Test
  void chatFinishChunkHasAnEmptyDeltaAndTheReason() {
    JsonObject chunk = format(RequestKind.CHAT, true, false).finishChunk("length");

    JsonObject choice = onlyChoice(chunk);
    assertThat(choice.getJsonObject("delta")).isEqualTo(new JsonObject());
    assertThat(choice.getString("finish_reason")).isEqualTo("length");
  }

  @Test
  void usageChunkHasNoChoicesAndTheTotals() {
    JsonObject chunk = format(RequestKind.CHAT, true, true).usageChunk(new Usage(12, 30));

    assertEnvelope(chunk, "chat.completion.chunk", "chatcmpl-req123");
    assertThat(chunk.getJsonArray("choices")).isEmpty();
    JsonObject usage = chunk.getJsonObject("usage");
    assertThat(usage.getInteger("prompt_tokens")).isEqualTo(12);
    assertThat(usage.getInteger("completion_tokens")).isEqualTo(30);
    assertThat(usage.getInteger("total_tokens")).isEqualTo(42);
  }

  @Test
  void includeUsagePutsANullUsageOnEveryOtherChunk() {
    OpenAiFormat format = format(RequestKind.CHAT, true, true);

    for (JsonObject chunk : new JsonObject[] {format.roleChunk(), format.textChunk("x"), format.finishChunk("stop")}) {
      assertThat(chunk.containsKey("usage")).as(chunk.encode()).isTrue();
      assertThat(chunk.getValue("usage")).isNull();
      assertThat(chunk.encode()).contains("\"usage\":null");
    }
  }

  @Test
  void completionChunkCarriesTheTextInTheChoice() {
    OpenAiFormat format = format(RequestKind.COMPLETION, true, false);

    JsonObject chunk = format.textChunk(" upon");
    JsonObject finish = format.finishChunk("stop");

    assertEnvelope(chunk, "text_completion", "cmpl-req123");
    JsonObject choice = onlyChoice(chunk);
    assertThat(choice.getString("text")).isEqualTo(" upon");
    assertThat(choice.containsKey("delta")).isFalse();
    assertThat(choice.getValue("finish_reason")).isNull();
    assertThat(onlyChoice(finish).getString("text")).isEmpty();
    assertThat(onlyChoice(finish).getString("finish_reason")).isEqualTo("stop");
    assertThat(chunk.containsKey("usage")).isFalse();
  }

  @Test
  void completionUsageChunk() {
    JsonObject chunk = format(RequestKind.COMPLETION, true, true).usageChunk(new Usage(1, 2));

    assertThat(chunk.getString("object")).isEqualTo("text_completion");
    assertThat(chunk.getJsonArray("choices")).isEmpty();
    assertThat(chunk.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(3);
  }

  @Test
  void completeChatResponse() {
    JsonObject response = format(RequestKind.CHAT, false, false)
        .completeResponse("the answer", "stop", new Usage(5, 2));

    assertEnvelope(response, "chat.completion", "chatcmpl-req123");
    JsonObject choice = onlyChoice(response);
    JsonObject message = choice.getJsonObject("message");
    assertThat(message.getString("role")).isEqualTo("assistant");
    assertThat(message.getString("content")).isEqualTo("the answer");
    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
    assertThat(response.getJsonObject("usage").getInteger("total_tokens")).isEqualTo(7);
  }

  @Test
  void completeCompletionResponse() {
    JsonObject response = format(RequestKind.COMPLETION, false, false)
        .completeResponse("the answer", "length", new Usage(5, 2));

    assertEnvelope(response, "text_completion", "cmpl-req123");
    JsonObject choice = onlyChoice(response);
    assertThat(choice.getString("text")).isEqualTo("the answer");
    assertThat(choice.containsKey("message")).isFalse();
    assertThat(choice.getString("finish_reason")).isEqualTo("length");
  }

  @Test
  void everyChunkOfOneRequestSharesIdAndCreated() {
    OpenAiFormat format = format(RequestKind.CHAT, true, true);

    JsonObject first = format.roleChunk();
    JsonObject last = format.usageChunk(new Usage(1, 1));

    assertThat(last.getString("id")).isEqualTo(first.getString("id"));
    assertThat(last.getLong("created")).isEqualTo(first.getLong("created"));
  }

  /** Characters that need escaping or several UTF-8 bytes, mixed with plain ones. */
  private static String randomText(Random random) {
    String pool = "ab \"\\/\b\t\n\f\r\u0000\u0001\u001f\u007f é日本\u2028";
    StringBuilder text = new StringBuilder();
    for (int i = random.nextInt(40); i > 0; i--) {
      if (random.nextInt(8) == 0) {
        text.appendCodePoint(0x1F300 + random.nextInt(200)); // astral: a surrogate pair
      } else {
        text.append(pool.charAt(random.nextInt(pool.length())));
      }
    }
    return text.toString();
  }

  @Test
  void aPlainAnswerWrittenStraightOutIsByteForByteTheEncodedJsonTree() {
    Random random = new Random(20261123);
    for (RequestKind kind : new RequestKind[] {RequestKind.CHAT, RequestKind.COMPLETION}) {
      OpenAiFormat format = format(kind, false, false);
      for (int i = 0; i < 2_000; i++) {
        String text = randomText(random);
        String finishReason = new String[] {"stop", "length", null, "tool\"calls"}[random.nextInt(4)];
        Usage usage = new Usage(random.nextInt(5000), random.nextInt(5000), random.nextBoolean() ? 0 : 7);
        String expected = format.completeResponse(text, finishReason, usage, new ChoiceExtras()).encode();
        assertThat(format.completeResponseBody(text, finishReason, usage, new ChoiceExtras()).toString())
            .as("%s %s", kind, text).isEqualTo(expected);
      }
    }
  }

  @Test
  void anAnswerWithSomethingBesideTheTextGoesThroughTheTree() {
    OpenAiFormat format = format(RequestKind.CHAT, false, false);
    ChoiceExtras extras = new ChoiceExtras();
    extras.add(new JsonObject().put("delta", new JsonObject().put("reasoning_content", "thinking")));
    JsonObject body = new JsonObject(format.completeResponseBody("hi", "stop", new Usage(1, 2), extras));
    assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
        .getString("reasoning_content")).isEqualTo("thinking");
    assertThat(body).isEqualTo(format.completeResponse("hi", "stop", new Usage(1, 2), extras));
  }

  @Test
  void aPlainTextChunkWrittenStraightOutIsByteForByteTheEncodedJsonTree() {
    Random random = new Random(20261206);
    for (RequestKind kind : new RequestKind[] {RequestKind.CHAT, RequestKind.COMPLETION}) {
      for (boolean includeUsage : new boolean[] {false, true}) {
        OpenAiFormat format = format(kind, true, includeUsage);
        for (int i = 0; i < 2_000; i++) {
          if (i == 1_000) {
            format.servedBy("fallback \"model\" \u00e9"); // the head names the model that served from then on
          }
          String text = randomText(random);
          assertThat(format.appendTextChunk(new StringBuilder(), text).toString())
              .as("%s usage=%s %s", kind, includeUsage, text).isEqualTo(format.textChunk(text).encode());
        }
      }
    }
  }
}
