package io.switchboard.worker.openai;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The OpenAI-compatible servers an openai worker knows by name, and what differs between them: where each
 * says it is healthy, how each continues a partial chat answer, and what a request without {@code max_tokens}
 * means to it. Everything else goes through the common OpenAI API. {@link #OPENAI} is any other server: health from
 * {@code /v1/models}, assistant prefill. Which request fields each lets no client set: {@link BackendFieldPolicy}.
 */
public enum BackendKind {
  VLLM("vllm", "/health", ChatResume.CONTINUE_FINAL_MESSAGE, OmittedLimit.ENDS_AT_CONTEXT),
  SGLANG("sglang", "/health", ChatResume.CONTINUE_FINAL_MESSAGE, OmittedLimit.ENDS_AT_CONTEXT),
  TGI("tgi", "/health", ChatResume.ASSISTANT_PREFILL, OmittedLimit.ENDS_AT_CONTEXT),
  TRTLLM("trtllm", "/health", ChatResume.ASSISTANT_PREFILL, OmittedLimit.ENDS_AT_CONTEXT),
  OLLAMA("ollama", "/api/version", ChatResume.ASSISTANT_PREFILL, OmittedLimit.UNBOUNDED),
  LLAMACPP("llamacpp", "/health", ChatResume.ASSISTANT_PREFILL, OmittedLimit.UNBOUNDED),
  OPENAI("openai", "/v1/models", ChatResume.ASSISTANT_PREFILL, OmittedLimit.UNKNOWN);

  /**
   * What a request without {@code max_tokens} means to a backend, which decides where the gateway's cap goes.
   * <ul>
   *   <li>{@code ENDS_AT_CONTEXT}: the server stops where the model's context is full (vLLM, SGLang, TGI,
   *   trtllm-serve fill in context minus prompt), and it refuses prompt + {@code max_tokens} over the context
   *   with a 400: sending a cap larger than what is left would turn a valid request into an error, so the cap is
   *   not sent; the worker ends the stream at the cap itself.</li>
   *   <li>{@code UNBOUNDED}: the server generates until the context is full or forever (Ollama's num_predict
   *   -1, llama-server's n_predict -1 with --context-shift) and takes a limit larger than the context without
   *   complaint: the cap is sent as {@code max_tokens}, the field both read.</li>
   *   <li>{@code UNKNOWN}: any other server (an OpenAI-compatible proxy, OpenAI's own API, which refuses a
   *   {@code max_tokens} above a model's output limit): the cap is not sent; the worker ends the stream at it.</li>
   * </ul>
   */
  public enum OmittedLimit {
    ENDS_AT_CONTEXT,
    UNBOUNDED,
    UNKNOWN
  }

  /**
   * How a backend is asked to continue a chat answer another worker began: both send the text so far as a final
   * assistant message; vLLM and SGLang need {@code continue_final_message} (and no generation prompt) to extend it
   * instead of starting a new turn, llama-server and most others extend a final assistant message by themselves.
   */
  public enum ChatResume {
    CONTINUE_FINAL_MESSAGE,
    ASSISTANT_PREFILL
  }

  private final String configName;
  private final String healthPath;
  private final ChatResume chatResume;
  private final OmittedLimit omittedLimit;

  BackendKind(String configName, String healthPath, ChatResume chatResume, OmittedLimit omittedLimit) {
    this.configName = configName;
    this.healthPath = healthPath;
    this.chatResume = chatResume;
    this.omittedLimit = omittedLimit;
  }

  public OmittedLimit omittedLimit() {
    return omittedLimit;
  }

  public String configName() {
    return configName;
  }

  public String healthPath() {
    return healthPath;
  }

  public ChatResume chatResume() {
    return chatResume;
  }

  /** The kind a config names, or null ("auto" and unknown names). */
  public static BackendKind fromConfig(String name) {
    if (name == null) {
      return null;
    }
    for (BackendKind kind : values()) {
      if (kind.configName.equals(name.toLowerCase(Locale.ROOT))) {
        return kind;
      }
    }
    return null;
  }

  /** "auto" and every kind's name, for error messages. */
  public static List<String> configNames() {
    List<String> names = new ArrayList<>(List.of(OpenAiOptions.DEFAULT_KIND));
    for (BackendKind kind : values()) {
      names.add(kind.configName);
    }
    return names;
  }

  /**
   * Recognises a server by the {@code owned_by} of its {@code /v1/models} entries (vLLM says "vllm", SGLang
   * "sglang", llama-server "llamacpp", trtllm-serve "tensorrt_llm", Ollama "library" for its own models), else
   * null.
   */
  public static BackendKind fromOwnedBy(String ownedBy) {
    if (ownedBy == null) {
      return null;
    }
    return switch (ownedBy.toLowerCase(Locale.ROOT)) {
      case "vllm" -> VLLM;
      case "sglang" -> SGLANG;
      case "llamacpp" -> LLAMACPP;
      case "tensorrt_llm", "trtllm" -> TRTLLM;
      case "library", "ollama" -> OLLAMA;
      case "tgi", "text-generation-inference" -> TGI;
      default -> null;
    };
  }

  /** Recognises a server by the metric family its load signals came from ("vllm", "sglang", ...), else null. */
  public static BackendKind fromMetricsSource(String source) {
    return fromConfig(source);
  }
}
