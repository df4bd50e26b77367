package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * How one request's answer reaches its client, in its dialect's wire format. The exchange calls it on the gateway's
 * event loop: any number of {@link #delta}s, then exactly one of {@link #complete} or {@link #failed}. A streamed
 * answer is written as it comes; a whole one is assembled and written at the end.
 */
public interface AnswerWriter {

  /**
   * A piece of the answer: text, and what the backend sent beside it ({@code extra}: OpenAI-shaped chat deltas such
   * as {@code tool_calls} or {@code reasoning_content}, and {@code logprobs}), or null.
   */
  void delta(String text, JsonObject extra);

  /**
   * The answer is complete. {@code wholeAnswer} is a non-generative request's result (embeddings), else null.
   *
   * @return completes when the last byte went to the connection
   * @throws ApiError when the worker's result cannot be given to the client (the exchange fails the request)
   */
  Future<Void> complete(String finishReason, Usage usage, JsonObject wholeAnswer);

  /**
   * The request failed: an error response in the dialect's shape if nothing was written yet, else an error event
   * that ends the stream so it cannot pass for complete.
   *
   * @return completes when the last byte went to the connection
   */
  Future<Void> failed(ApiError error);

  /**
   * The model that serves the answer: the one its {@code model} field names. The exchange says so before the first
   * {@link #delta}, {@link #complete} or {@link #failed}, and again if the request moves to another model (an alias's
   * fallback) before anything was written; until then the answer names the model the client asked for.
   */
  void servedBy(String model);

  /** Whether the answer started: its first events went out, a failure must be an event. */
  boolean started();

  /**
   * A streamed answer that has to wait (its model loads) keeps its client's connection alive: an SSE comment, which
   * clients ignore, after the stream's head (200) if it did not go out yet; the answer has not started
   * ({@link #started()} stays false, its model may still change), but a failure after this is an error event, the
   * status being sent. A whole answer has nothing to send.
   *
   * @return whether a comment went out
   */
  default boolean keepAlive(String comment) {
    return false;
  }
}
