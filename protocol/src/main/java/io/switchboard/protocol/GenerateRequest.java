package io.switchboard.protocol;

import io.vertx.core.json.JsonObject;

import java.util.Collection;
import java.util.Objects;

/**
 * One generation, as the gateway hands it to a worker.
 *
 * @param streamId       unique per attempt; names the gateway's stream address and the worker's control key
 * @param requestId      the client-facing request id (x-request-id), for logs on every hop
 * @param model          the model name the client asked for
 * @param kind           chat or completion
 * @param body           the client's OpenAI body as given (engines that proxy to a backend pass it through)
 * @param prompt         the prompt flattened to text (chat messages as "role: content" lines), for engines that
 *                       count or simulate tokens
 * @param sampling       the validated sampling fields
 * @param deadlineEpochMs wall-clock time after which the worker should stop and fail the stream; 0 for none
 * @param trace          W3C trace context
 * @param resume         text generated so far by an earlier attempt (empty for a fresh request)
 * @param gatewayNodeId  cluster node id of the gateway, so a worker can drop work when that node leaves
 * @param replyAddress   event-bus plane only: where the worker sends {@link StreamChunk}s (one consumer per gateway,
 *                       demultiplexed by stream id, so no cluster-wide subscription is made per request); empty
 *                       on the gRPC plane, where chunks flow back on the call itself
 * @param initialCredits event-bus plane only: how many chunks the worker may send before the gateway grants
 *                       more (the gRPC plane uses HTTP/2 flow control instead)
 * @param nativeForm     the client's request in its own dialect (Responses, Messages), for a worker whose backend
 *                       serves that dialect; null for a chat request, for a worker that does not list the dialect,
 *                       and for a resumed attempt. A worker that does not serve it uses {@link #body()}.
 */
public record GenerateRequest(
    String streamId,
    String requestId,
    String model,
    RequestKind kind,
    JsonObject body,
    String prompt,
    SamplingParams sampling,
    long deadlineEpochMs,
    TraceContext trace,
    ResumeState resume,
    String gatewayNodeId,
    String replyAddress,
    int initialCredits,
    NativeForm nativeForm) implements PlaneMessage {

  /** A request without a native form (a chat request, or one a worker answers through chat). */
  public GenerateRequest(String streamId, String requestId, String model, RequestKind kind, JsonObject body,
                         String prompt, SamplingParams sampling, long deadlineEpochMs, TraceContext trace,
                         ResumeState resume, String gatewayNodeId, String replyAddress, int initialCredits) {
    this(streamId, requestId, model, kind, body, prompt, sampling, deadlineEpochMs, trace, resume, gatewayNodeId,
        replyAddress, initialCredits, null);
  }

  public GenerateRequest {
    Objects.requireNonNull(streamId, "streamId");
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(kind, "kind");
    replyAddress = replyAddress == null ? "" : replyAddress;
    body = body == null ? new JsonObject() : body;
    prompt = prompt == null ? "" : prompt;
    trace = trace == null ? TraceContext.NONE : trace;
    resume = resume == null ? ResumeState.EMPTY : resume;
  }

  /** Whether the client asked for a streamed answer (the worker streams either way; the gateway assembles). */
  public boolean clientStreams() {
    return body.getBoolean("stream", false);
  }

  /**
   * This request as a worker listing {@code nativeDialects} gets it: with its native form only when the worker serves
   * that dialect and the request is not resumed (a partial answer is continued through chat), else without one.
   */
  public GenerateRequest forWorker(Collection<String> nativeDialects) {
    if (nativeForm == null || nativeForm.servedBy(nativeDialects) && resume.isEmpty()) {
      return this;
    }
    return new GenerateRequest(streamId, requestId, model, kind, body, prompt, sampling, deadlineEpochMs, trace,
        resume, gatewayNodeId, replyAddress, initialCredits, null);
  }

  /** The native form a worker should act on: null when there is none or the request is resumed. */
  public NativeForm nativeToServe() {
    return resume.isEmpty() ? nativeForm : null;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("streamId", streamId)
        .put("requestId", requestId)
        .put("model", model)
        .put("kind", kind.wireName())
        .put("body", body)
        .put("prompt", prompt)
        .put("sampling", sampling.toJson())
        .put("deadline", deadlineEpochMs)
        .put("trace", trace.toJson())
        .put("resume", resume.toJson())
        .put("gatewayNodeId", gatewayNodeId)
        .put("replyAddress", replyAddress)
        .put("initialCredits", initialCredits);
    if (nativeForm != null) {
      json.put("native", nativeForm.toJson()); // absent otherwise: an older worker sees the message it knows
    }
    return json;
  }

  public static GenerateRequest fromJson(JsonObject json) {
    return new GenerateRequest(
        json.getString("streamId"),
        json.getString("requestId"),
        json.getString("model"),
        RequestKind.fromWire(json.getString("kind")),
        json.getJsonObject("body"),
        json.getString("prompt"),
        SamplingParams.fromJson(json.getJsonObject("sampling", new JsonObject())),
        json.getLong("deadline", 0L),
        TraceContext.fromJson(json.getJsonObject("trace")),
        ResumeState.fromJson(json.getJsonObject("resume")),
        json.getString("gatewayNodeId"),
        json.getString("replyAddress"),
        json.getInteger("initialCredits", 0),
        NativeForm.fromJson(json.getJsonObject("native")));
  }
}
