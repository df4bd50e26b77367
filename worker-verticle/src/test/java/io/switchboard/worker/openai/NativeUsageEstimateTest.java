package io.switchboard.worker.openai;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A native stream whose backend reports no prompt tokens is charged the prompt's estimate, never an empty prompt. */
class NativeUsageEstimateTest {

  @Test
  void aPromptCountsAtFourCharactersATokenAndNeverLessThanOne() {
    assertThat(NativeStreamApi.estimatedPromptTokens("user: hello\n")).isEqualTo(3);
    assertThat(NativeStreamApi.estimatedPromptTokens("x".repeat(4001))).isEqualTo(1001);
    assertThat(NativeStreamApi.estimatedPromptTokens("")).isEqualTo(1);
    assertThat(NativeStreamApi.estimatedPromptTokens(null)).isEqualTo(1);
  }
}
