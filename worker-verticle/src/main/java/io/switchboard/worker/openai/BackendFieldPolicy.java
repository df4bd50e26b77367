package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateError;
import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The request fields a client may not set, per backend kind: fields that lift the token cap, make a model write
 * until the limit whatever the answer, pick the server's resources (slots, adapters, parallel completions, data
 * parallel ranks), jump its queue, tell it where to send or take KV cache, run code, or bypass the chat template.
 * The client's body otherwise goes to the backend as given. A request naming one is refused (400 naming the field,
 * never retried on another worker, never counted against this one) rather than quietly changed: a client that sets
 * a field expects it to act. An operator can let named fields through ({@code workers[N].openai.passFields}).
 * docs/security.md has the table and the reasons.
 */
public final class BackendFieldPolicy {

  /** Why a field is refused, and what to use instead; shared wording for fields several kinds refuse. */
  private static final String FORCES_LENGTH = "it makes the model write until the token limit whatever the answer; "
      + "bound the answer with max_tokens instead";
  private static final String SCHEDULING = "scheduling is the operator's: a client may not move itself ahead of "
      + "others";
  private static final String DISAGGREGATION = "it tells the server where to send or take KV cache (disaggregated "
      + "serving), which only the operator's own components may do";
  private static final String ADAPTER = "adapters are the operator's choice of model: an adapter is served as a "
      + "model name of its own (GET /v1/models)";
  private static final String REQUEST_ID = "the server's request ids are the worker's; the gateway sends the "
      + "request id (x-request-id) itself";
  private static final String TEMPLATE = "the chat template is the operator's; send messages";

  private static final Map<BackendKind, Map<String, String>> REFUSED = new EnumMap<>(BackendKind.class);

  static {
    REFUSED.put(BackendKind.LLAMACPP, ordered(
        "n_predict", "it overrides max_tokens and so the gateway's cap (gateway.limits.maxTokens); use max_tokens",
        "ignore_eos", FORCES_LENGTH,
        "id_slot", "llama-server's slots are the worker's to schedule: one a client picks can evict other "
            + "clients' cached prompts",
        "slot_id", "llama-server's slots are the worker's to schedule (slot_id is id_slot's old name)",
        "lora", ADAPTER,
        "n_cmpl", "it runs several completions at once in as many slots for one request; send separate requests",
        "n_probs", "use logprobs with top_logprobs (at most 20)",
        "chat_format", "it is internal to llama-server, set from the model's chat template",
        "chat_parser", "it is internal to llama-server, set from the model's chat template",
        "generation_prompt", "it is internal to llama-server, set from the model's chat template"));
    REFUSED.put(BackendKind.VLLM, ordered(
        "ignore_eos", FORCES_LENGTH,
        "min_tokens", FORCES_LENGTH,
        "priority", SCHEDULING,
        "kv_transfer_params", DISAGGREGATION,
        "ec_transfer_params", DISAGGREGATION,
        "vllm_xargs", "it passes arbitrary arguments to the server's custom extensions",
        "logits_processors", "it names code for the server to run",
        "request_id", REQUEST_ID,
        "chat_template", TEMPLATE,
        "prompt_embeds", "it sends raw embedding tensors past the tokenizer; send the prompt as text"));
    REFUSED.put(BackendKind.SGLANG, ordered(
        "ignore_eos", FORCES_LENGTH,
        "min_tokens", FORCES_LENGTH,
        "min_new_tokens", FORCES_LENGTH,
        "priority", SCHEDULING,
        "lora_path", ADAPTER,
        "custom_logit_processor", "it is a serialized Python callable for the server to run",
        "custom_params", "it feeds the server's custom logit processors, which no client may choose",
        "return_hidden_states", "it returns the model's hidden states with every token: far more than an answer",
        "bootstrap_host", DISAGGREGATION,
        "bootstrap_port", DISAGGREGATION,
        "bootstrap_room", DISAGGREGATION,
        "routed_dp_rank", SCHEDULING,
        "data_parallel_rank", SCHEDULING,
        "disagg_prefill_dp_rank", DISAGGREGATION,
        "rid", REQUEST_ID,
        "session_id", "server-side sessions would let one client continue another's; send the conversation",
        "session_params", "server-side sessions would let one client continue another's; send the conversation",
        "input_ids", "it bypasses the chat template with raw token ids; send messages",
        "custom_labels", "it names the server's metric labels (each new one is kept)"));
    REFUSED.put(BackendKind.TRTLLM, ordered(
        "ignore_eos", FORCES_LENGTH,
        "min_tokens", FORCES_LENGTH,
        "priority", SCHEDULING,
        "lora_request", ADAPTER,
        "disaggregated_params", DISAGGREGATION,
        "conversation_params", SCHEDULING,
        "agent_hierarchy", SCHEDULING,
        "prompt_token_ids", "it bypasses the chat template with raw token ids; send messages",
        "prompt_token_ids_b64", "it bypasses the chat template with raw token ids; send messages",
        "injected_chat_template_kwargs", "it is set by the server, not by clients",
        "chat_template", TEMPLATE));
    REFUSED.put(BackendKind.OLLAMA, ordered(
        "options", "Ollama's model options (num_predict, num_ctx, ...) are the operator's; use max_tokens and the "
            + "OpenAI sampling fields",
        "keep_alive", "how long a model stays loaded is the operator's (OLLAMA_KEEP_ALIVE); a client could unload "
            + "or pin models for everyone",
        "_debug_render_only", "it returns the prompt as the model's template renders it, system prompt included, "
            + "instead of an answer"));
    // TGI's OpenAI routes read only OpenAI's fields (details, decoder_input_details and top_n_tokens belong to its
    // own /generate API, which the worker never calls).
    REFUSED.put(BackendKind.TGI, Map.of());
    // Any other server may be a proxy in front of any of the above: refuse what any of them would act on.
    Map<String, String> union = new LinkedHashMap<>();
    for (BackendKind kind : BackendKind.values()) {
      REFUSED.getOrDefault(kind, Map.of()).forEach(union::putIfAbsent);
    }
    REFUSED.put(BackendKind.OPENAI, union);
  }

  private final BackendKind kind;
  private final Map<String, String> refused;
  private final String allowSetting;

  /**
   * @param passFields   fields the operator lets through for this worker despite the kind's policy
   * @param allowSetting the setting that holds them, named in refusals
   */
  public BackendFieldPolicy(BackendKind kind, Collection<String> passFields, String allowSetting) {
    this.kind = kind;
    Map<String, String> fields = new LinkedHashMap<>(REFUSED.get(kind));
    passFields.forEach(fields::remove);
    this.refused = fields;
    this.allowSetting = allowSetting;
  }

  public BackendKind kind() {
    return kind;
  }

  /** The fields refused for {@code kind} with no operator exceptions (for docs and tests). */
  static Set<String> refusedFor(BackendKind kind) {
    return REFUSED.get(kind).keySet();
  }

  /**
   * The refusal for the first field of {@code body} this kind does not take from clients, else null. {@code backend}
   * names the backend in the message.
   */
  public GenerateError check(JsonObject body, String backend, String workerId) {
    if (refused.isEmpty()) {
      return null;
    }
    for (String field : body.fieldNames()) {
      String why = refused.get(field);
      if (why != null) {
        return GenerateError.invalidField(field, "'" + field + "' may not be set in requests to " + backend
            + " (" + kind.configName() + "): " + why + ". An operator can let it through with " + allowSetting,
            workerId);
      }
    }
    return null;
  }

  private static Map<String, String> ordered(String... fieldsAndReasons) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < fieldsAndReasons.length; i += 2) {
      map.put(fieldsAndReasons[i], fieldsAndReasons[i + 1]);
    }
    return map;
  }
}
