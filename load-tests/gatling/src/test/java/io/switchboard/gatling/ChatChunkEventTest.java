package io.switchboard.gatling;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The verdicts StreamingChatSimulation's checks rest on. */
class ChatChunkEventTest {

  private static final String CONTENT =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mock-llm\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"route\"},\"finish_reason\":null}],\"usage\":null}";
  private static final String ROLE =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mock-llm\","
          + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}";
  private static final String USAGE =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"mock-llm\","
          + "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":32,\"total_tokens\":35}}";

  @Test
  void chunksWithAndWithoutContentAndDone() {
    assertThat(ChatChunkEvent.verdict(CONTENT)).isEqualTo(ChatChunkEvent.CONTENT_CHUNK);
    assertThat(ChatChunkEvent.verdict(ROLE)).isEqualTo(ChatChunkEvent.CHUNK_WITHOUT_CONTENT);
    assertThat(ChatChunkEvent.verdict(USAGE)).isEqualTo(ChatChunkEvent.CHUNK_WITHOUT_CONTENT);
    assertThat(ChatChunkEvent.verdict("[DONE]")).isEqualTo(ChatChunkEvent.DONE);
    assertThat(ChatChunkEvent.isChunk(CONTENT)).isTrue();
    assertThat(ChatChunkEvent.isChunk("[DONE]")).isFalse();
    assertThat(ChatChunkEvent.isChunkWithoutContent(ROLE)).isTrue();
    assertThat(ChatChunkEvent.isChunkWithoutContent(CONTENT)).isFalse();
  }

  @Test
  void anErrorEventIsInvalidAndQuoted() {
    String error = "{\"error\":{\"message\":\"The request timed out\",\"type\":\"timeout\",\"param\":null,\"code\":\"timeout\"}}";

    String verdict = ChatChunkEvent.verdict(error);

    assertThat(verdict).startsWith(ChatChunkEvent.INVALID_PREFIX + "an error event: ").contains("The request timed out");
    assertThat(ChatChunkEvent.isChunk(error)).isFalse();
    assertThat(ChatChunkEvent.isChunkWithoutContent(error)).isFalse();
  }

  @Test
  void malformedEventsSayWhatIsWrong() {
    assertThat(ChatChunkEvent.verdict("not json")).isEqualTo(
        ChatChunkEvent.INVALID_PREFIX + "data is not a JSON object: not json");
    assertThat(ChatChunkEvent.verdict(CONTENT.replace("chat.completion.chunk", "chat.completion")))
        .startsWith(ChatChunkEvent.INVALID_PREFIX + "object is not chat.completion.chunk");
    assertThat(ChatChunkEvent.verdict(CONTENT.replace("\"id\":\"chatcmpl-1\",", "")))
        .startsWith(ChatChunkEvent.INVALID_PREFIX + "no id");
    assertThat(ChatChunkEvent.verdict(USAGE.replace("\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":32,"
        + "\"total_tokens\":35}", "\"usage\":null"))).startsWith(ChatChunkEvent.INVALID_PREFIX + "no choice and no usage");
    assertThat(ChatChunkEvent.verdict(CONTENT.replace("\"delta\":{\"content\":\"route\"}", "\"text\":\"route\"")))
        .startsWith(ChatChunkEvent.INVALID_PREFIX + "a choice without index or delta");
    assertThat(ChatChunkEvent.verdict("")).isEqualTo(ChatChunkEvent.INVALID_PREFIX + "data is not a JSON object: ");
  }

  @Test
  void aLongEventIsQuotedShort() {
    String verdict = ChatChunkEvent.verdict("x".repeat(10_000));

    assertThat(verdict).endsWith("...").hasSizeLessThan(400);
  }
}
