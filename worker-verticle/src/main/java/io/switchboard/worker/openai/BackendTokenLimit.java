package io.switchboard.worker.openai;

import io.switchboard.protocol.GenerateRequest;
import io.switchboard.protocol.SamplingParams;
import io.vertx.core.json.JsonObject;

/**
 * The completion-token limit of one generation and where it goes: every generation is bounded, by the client's
 * {@code max_tokens}, else by the gateway's cap (and the model's context, where the worker knows it). Kinds that
 * would generate without end get the limit in {@code max_tokens}, the field they read; kinds that stop at the
 * context and refuse a limit beyond it are not sent the cap (it would turn valid requests into 400s), so the worker
 * ends their stream at the cap itself ({@link #watchAt()}). See {@link BackendKind.OmittedLimit}.
 */
final class BackendTokenLimit {

  private final BackendKind.OmittedLimit omitted;
  private final Integer clientLimit;
  /** The whole answer's limit (parts generated before a resume included); null when nothing bounds it here. */
  private final Integer total;
  private final int doneBefore;
  private final boolean resumed;

  /** @param contextTokens the model's context in tokens where the worker knows it, else 0 */
  BackendTokenLimit(BackendKind kind, GenerateRequest request, int contextTokens) {
    SamplingParams sampling = request.sampling();
    this.omitted = kind.omittedLimit();
    this.clientLimit = sampling.maxTokens();
    Integer limit = sampling.tokenLimit();
    if (clientLimit == null && contextTokens > 0) {
      limit = limit == null ? Integer.valueOf(contextTokens) : Integer.valueOf(Math.min(limit, contextTokens));
    }
    this.total = limit;
    this.doneBefore = request.resume().completionTokens();
    this.resumed = !request.resume().text().isEmpty();
  }

  /** Tokens this part of the answer may still produce (at least 1: a resumed part asks for one more at least). */
  private int left() {
    return Math.max(1, total - doneBefore);
  }

  /** Writes the limit into the backend's body where it belongs. */
  void applyTo(JsonObject body) {
    if (total == null) {
      return;
    }
    if (omitted == BackendKind.OmittedLimit.UNBOUNDED) {
      // Ollama reads only max_tokens; llama-server reads either name: set the one both read, and the other if given.
      body.put("max_tokens", left());
      if (body.containsKey("max_completion_tokens")) {
        body.put("max_completion_tokens", left());
      }
    } else if (clientLimit != null && resumed) {
      body.put(body.containsKey("max_completion_tokens") ? "max_completion_tokens" : "max_tokens", left());
    }
  }

  /**
   * Writes the limit into a native body's {@code field} ({@code max_output_tokens} of the Responses API,
   * {@code max_tokens} of the Messages API), by the same rule as a chat body's: always for kinds that would
   * generate without end, else only when the client set a limit (clamped to the gateway's cap); the worker watches
   * the stream otherwise ({@link #watchAt()}). A native body is never a resumed part.
   */
  void applyTo(JsonObject body, String field) {
    if (total == null) {
      return;
    }
    if (omitted == BackendKind.OmittedLimit.UNBOUNDED || clientLimit != null) {
      body.put(field, left());
    }
  }

  /**
   * How many streamed tokens of this part end the stream on the worker's side ("length"), because the backend was
   * not sent the cap; 0 when the backend itself stops at the limit.
   */
  int watchAt() {
    boolean backendKnows = clientLimit != null || omitted == BackendKind.OmittedLimit.UNBOUNDED;
    return total == null || backendKnows ? 0 : left();
  }
}
