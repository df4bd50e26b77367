package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.ResumeState;
import io.switchboard.protocol.SamplingParams;
import io.switchboard.protocol.TraceContext;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Every generation is bounded: where each backend kind gets the limit, and where the worker enforces it. */
class BackendTokenLimitTest {

  private static final int CAP = 1000;

  private static GenerateRequest request(JsonObject body, Integer clientLimit, ResumeState resume) {
    return new GenerateRequest("s", "r", "m", RequestKind.CHAT, body, "user: hi\n",
        new SamplingParams(clientLimit, 1.0, 1.0, List.of(), null, CAP), 0, TraceContext.NONE, resume, null, "", 0);
  }

  private static JsonObject applied(BackendKind kind, JsonObject body, Integer clientLimit, ResumeState resume,
                                    int context) {
    JsonObject copy = body.copy();
    new BackendTokenLimit(kind, request(body, clientLimit, resume), context).applyTo(copy);
    return copy;
  }

  private static JsonObject body() {
    return new JsonObject().put("model", "m");
  }

  @Test
  void serversThatWouldGenerateWithoutEndGetTheCapInMaxTokens() {
    for (BackendKind kind : List.of(BackendKind.OLLAMA, BackendKind.LLAMACPP)) {
      assertThat(applied(kind, body(), null, ResumeState.EMPTY, 0).getInteger("max_tokens")).as(kind.name())
          .isEqualTo(CAP);
      assertThat(new BackendTokenLimit(kind, request(body(), null, ResumeState.EMPTY), 0).watchAt()).isZero();
    }
  }

  @Test
  void aKnownContextShorterThanTheCapBoundsItInstead() {
    assertThat(applied(BackendKind.LLAMACPP, body(), null, ResumeState.EMPTY, 512).getInteger("max_tokens"))
        .isEqualTo(512);
  }

  @Test
  void ollamaReadsOnlyMaxTokensSoAClientsMaxCompletionTokensIsWrittenThereToo() {
    JsonObject sent = applied(BackendKind.OLLAMA, body().put("max_completion_tokens", 7), 7, ResumeState.EMPTY, 0);

    assertThat(sent.getInteger("max_tokens")).isEqualTo(7);
    assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(7);
  }

  @Test
  void serversThatStopAtTheContextAndRefuseMoreAreNotSentTheCapButWatched() {
    for (BackendKind kind : List.of(BackendKind.VLLM, BackendKind.SGLANG, BackendKind.TGI, BackendKind.TRTLLM,
        BackendKind.OPENAI)) {
      JsonObject sent = applied(kind, body(), null, ResumeState.EMPTY, 0);
      assertThat(sent.containsKey("max_tokens")).as(kind.name()).isFalse();
      assertThat(sent.containsKey("max_completion_tokens")).as(kind.name()).isFalse();
      assertThat(new BackendTokenLimit(kind, request(body(), null, ResumeState.EMPTY), 0).watchAt()).isEqualTo(CAP);
    }
  }

  @Test
  void aClientsOwnLimitGoesAsGivenAndTheBackendStopsThere() {
    JsonObject sent = applied(BackendKind.VLLM, body().put("max_tokens", 20), 20, ResumeState.EMPTY, 0);

    assertThat(sent.getInteger("max_tokens")).isEqualTo(20);
    assertThat(new BackendTokenLimit(BackendKind.VLLM, request(body(), 20, ResumeState.EMPTY), 0).watchAt()).isZero();
  }

  @Test
  void aResumedAnswerGetsWhatIsLeftOfItsLimit() {
    ResumeState resume = new ResumeState("so far", 300);

    assertThat(applied(BackendKind.VLLM, body().put("max_completion_tokens", 400), 400, resume, 0)
        .getInteger("max_completion_tokens")).isEqualTo(100);
    assertThat(applied(BackendKind.OLLAMA, body(), null, resume, 0).getInteger("max_tokens")).isEqualTo(CAP - 300);
    assertThat(new BackendTokenLimit(BackendKind.SGLANG, request(body(), null, resume), 0).watchAt())
        .isEqualTo(CAP - 300);
  }

  @Test
  void withNoCapAndNoKnownContextNothingIsAdded() {
    GenerateRequest uncapped = new GenerateRequest("s", "r", "m", RequestKind.CHAT, body(), "",
        new SamplingParams(null, 1.0, 1.0, List.of(), null, null), 0, TraceContext.NONE, ResumeState.EMPTY, null,
        "", 0);
    BackendTokenLimit limit = new BackendTokenLimit(BackendKind.OLLAMA, uncapped, 0);
    JsonObject sent = body();
    limit.applyTo(sent);

    assertThat(sent.containsKey("max_tokens")).isFalse();
    assertThat(limit.watchAt()).isZero();
  }
}
