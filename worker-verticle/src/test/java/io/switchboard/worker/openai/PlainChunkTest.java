package io.switchboard.worker.openai;

import org.junit.jupiter.api.Test;

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

  private static PlainChunk read(String event, boolean chat) {
    byte[] bytes = ("  " + event).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return PlainChunk.read(bytes, 2, bytes.length - 2, chat);
  }
}
