package io.switchboard.gateway.api;

import io.switchboard.protocol.RequestKind;
import io.switchboard.protocol.SamplingParams;
import io.vertx.core.json.JsonObject;

/**
 * A validated chat or completion request: the client's body as given plus what the gateway needs from it.
 *
 * @param prompt       the prompt as text (chat messages flattened to "role: content" lines)
 * @param stream       whether the client wants Server-Sent Events
 * @param includeUsage whether a streamed answer ends with a usage chunk ({@code stream_options.include_usage})
 */
public record CompletionRequest(RequestKind kind, String model, JsonObject body, String prompt,
                                SamplingParams sampling, boolean stream, boolean includeUsage) {
}
