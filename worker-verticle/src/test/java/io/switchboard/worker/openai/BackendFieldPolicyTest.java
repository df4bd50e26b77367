package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which request fields each backend kind takes from clients, and how a refusal reads. */
class BackendFieldPolicyTest {

  private static GenerateError check(BackendKind kind, JsonObject body) {
    return new BackendFieldPolicy(kind, List.of(), "workers[N].openai.passFields").check(body, "backend at x:1",
        "w1");
  }

  private static JsonObject chatWith(String field, Object value) {
    return new JsonObject().put("model", "m").put("messages", List.of()).put("max_tokens", 5).put(field, value);
  }

  @ParameterizedTest(name = "{0} refuses {1}")
  @CsvSource({
      "LLAMACPP, n_predict", "LLAMACPP, ignore_eos", "LLAMACPP, id_slot", "LLAMACPP, slot_id", "LLAMACPP, lora",
      "LLAMACPP, n_cmpl", "LLAMACPP, n_probs",
      "VLLM, ignore_eos", "VLLM, min_tokens", "VLLM, priority", "VLLM, kv_transfer_params", "VLLM, vllm_xargs",
      "VLLM, request_id", "VLLM, chat_template", "VLLM, prompt_embeds", "VLLM, logits_processors",
      "SGLANG, ignore_eos", "SGLANG, min_tokens", "SGLANG, lora_path", "SGLANG, custom_logit_processor",
      "SGLANG, return_hidden_states", "SGLANG, bootstrap_host", "SGLANG, bootstrap_port", "SGLANG, rid",
      "SGLANG, session_params", "SGLANG, priority", "SGLANG, input_ids",
      "TRTLLM, disaggregated_params", "TRTLLM, lora_request", "TRTLLM, ignore_eos",
      "OLLAMA, options", "OLLAMA, keep_alive", "OLLAMA, _debug_render_only",
      "OPENAI, n_predict", "OPENAI, bootstrap_host", "OPENAI, kv_transfer_params", "OPENAI, options"})
  void aFieldTheKindRefusesIsNamedWithWhyAndWhatToDo(BackendKind kind, String field) {
    GenerateError refused = check(kind, chatWith(field, 1));

    assertThat(refused).isNotNull();
    assertThat(refused.code()).isEqualTo(GenerateError.Code.INVALID_REQUEST);
    assertThat(refused.retryable()).as("the same on every worker of the kind").isFalse();
    assertThat(refused.param()).isEqualTo(field);
    assertThat(refused.workerId()).isEqualTo("w1");
    assertThat(refused.message()).startsWith("'" + field + "' may not be set in requests to backend at x:1 ("
        + kind.configName() + "): ").contains("workers[N].openai.passFields");
  }

  @Test
  void theUsualOpenAiFieldsAndHarmlessExtrasPassOnEveryKind() {
    JsonObject body = new JsonObject().put("model", "m").put("messages", List.of()).put("max_tokens", 5)
        .put("max_completion_tokens", 5).put("temperature", 0.2).put("top_p", 0.9).put("stop", "x")
        .put("tools", List.of()).put("tool_choice", "auto").put("response_format", new JsonObject())
        .put("logprobs", true).put("top_logprobs", 2).put("seed", 1).put("user", "u").put("stream", true)
        .put("stream_options", new JsonObject()).put("top_k", 40).put("min_p", 0.05).put("cache_prompt", false)
        .put("chat_template_kwargs", new JsonObject()).put("cache_salt", "s").put("t_max_predict_ms", 100);
    for (BackendKind kind : BackendKind.values()) {
      assertThat(check(kind, body)).as(kind.name()).isNull();
    }
  }

  @Test
  void tgiTakesOnlyOpenAiFieldsOnItsOpenAiRoutesSoRefusesNothing() {
    assertThat(BackendFieldPolicy.refusedFor(BackendKind.TGI)).isEmpty();
    assertThat(check(BackendKind.TGI, chatWith("details", true))).isNull();
  }

  @Test
  void anUnknownServerRefusesWhatAnyKnownKindWouldActOn() {
    for (BackendKind kind : BackendKind.values()) {
      assertThat(BackendFieldPolicy.refusedFor(BackendKind.OPENAI)).containsAll(BackendFieldPolicy.refusedFor(kind));
    }
  }

  @Test
  void aFieldMeaningNothingToAKindPassesThere() {
    // n_predict means nothing to vLLM (it ignores unknown fields); only llama-server acts on it.
    assertThat(check(BackendKind.VLLM, chatWith("n_predict", 5))).isNull();
    assertThat(check(BackendKind.LLAMACPP, chatWith("min_tokens", 5))).isNull();
  }

  @Test
  void anOperatorCanLetNamedFieldsThrough() {
    BackendFieldPolicy policy = new BackendFieldPolicy(BackendKind.VLLM, List.of("priority"),
        "workers[N].openai.passFields");

    assertThat(policy.check(chatWith("priority", -5), "vllm", "w1")).isNull();
    assertThat(policy.check(chatWith("ignore_eos", true), "vllm", "w1").param()).isEqualTo("ignore_eos");
  }
}
