package io.switchboard.worker.openai;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PlainChunkTest {

  @Test
  void aChatDeltaWithTextAndNoExtrasIsReadWithoutATree() {
    PlainChunk chunk = PlainChunk.read("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        + "\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\" hi\"},"
        + "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}", true);

    assertThat(chunk).isEqualTo(new PlainChunk(true, " hi", null, -1, 0, 0));
  }

  @Test
  void finishReasonUsageAndCompletionTextAreRead() {
    assertThat(PlainChunk.read("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}", true))
        .isEqualTo(new PlainChunk(true, null, "length", -1, 0, 0));
    assertThat(PlainChunk.read("{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":16,"
        + "\"total_tokens\":21,\"prompt_tokens_details\":{\"cached_tokens\":3}}}", true))
        .isEqualTo(new PlainChunk(false, null, null, 5, 16, 3));
    assertThat(PlainChunk.read("{\"choices\":[{\"index\":0,\"text\":\"once\",\"finish_reason\":null}]}", false))
        .isEqualTo(new PlainChunk(true, "once", null, -1, 0, 0));
  }

  @Test
  void anythingBeyondPlainTextTakesTheFullPath() {
    assertThat(PlainChunk.read("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}", true)).isNull();
    assertThat(PlainChunk.read("{\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\"}}]}", true)).isNull();
    assertThat(PlainChunk.read("{\"choices\":[{\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[]}}]}", true))
        .isNull();
    assertThat(PlainChunk.read("{\"error\":{\"message\":\"out of memory\"}}", true)).isNull();
    assertThat(PlainChunk.read("{\"choices\":[{\"delta\":", true)).isNull();
    assertThat(PlainChunk.read("not json", true)).isNull();
    assertThat(PlainChunk.read("{\"choices\":[{\"text\":\"x\"}]}", true)).as("completion shape in a chat").isNull();
    assertThat(PlainChunk.read("{\"a\":1} {\"b\":2}", true)).as("trailing content").isNull();
  }

  @Test
  void onlyTheFirstChoiceCounts() {
    assertThat(PlainChunk.read("{\"choices\":[{\"delta\":{\"content\":\"a\"}},{\"delta\":{\"tool_calls\":[]}}]}", true))
        .isEqualTo(new PlainChunk(true, "a", null, -1, 0, 0));
  }
}
