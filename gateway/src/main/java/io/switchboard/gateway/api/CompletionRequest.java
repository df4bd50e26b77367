package io.switchboard.gateway.api;

import io.switchboard.protocol.NativeForm;
import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.vertx.core.json.JsonObject;

/**
 * A validated chat or completion request: the client's body as given plus what the gateway needs from it.
 *
 * @param prompt       the prompt as text (chat messages flattened to "role: content" lines)
 * @param stream       whether the client wants Server-Sent Events
 * @param includeUsage whether a streamed answer ends with a usage chunk ({@code stream_options.include_usage})
 * @param nativeForm   the client's request in its own dialect (Responses, Messages), passed to workers whose
 *                     backend serves it instead of {@code body} (the translation); null for chat and completions
 */
public record CompletionRequest(RequestKind kind, String model, JsonObject body, String prompt,
                                SamplingParams sampling, boolean stream, boolean includeUsage, NativeForm nativeForm) {

  /** A request with no native form: chat, completions, or a dialect that is only translated. */
  public CompletionRequest(RequestKind kind, String model, JsonObject body, String prompt, SamplingParams sampling,
                           boolean stream, boolean includeUsage) {
    this(kind, model, body, prompt, sampling, stream, includeUsage, null);
  }

  /** This request with the client's body in {@code dialect} (a dialect's reader sets it after translating). */
  public CompletionRequest withNative(String dialect, JsonObject clientBody) {
    return new CompletionRequest(kind, model, body, prompt, sampling, stream, includeUsage,
        new NativeForm(dialect, clientBody));
  }
}
