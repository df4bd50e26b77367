package io.switchboard.gateway.exchange;

import io.switchboard.gateway.routing.Pick;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;

/**
 * What is told of an exchange as it runs, for what the gateway keeps about requests beside answering them (metrics,
 * the trace span, the API key's token budget, the access log). The exchange calls every method on its event loop,
 * in this order for one request: {@link #started} once; per worker offered {@link #routed}, then
 * {@link #attemptFailed} if it did not take the request, or {@link #firstToken}, {@link #interToken}s and
 * {@link #migrated} if it failed mid-stream; {@link #fellBack} when an alias's request goes on to its next model;
 * {@link #queued} when the request starts to wait for room;
 * {@link #generationEnded} once when no worker works for it any more; {@link #finished} once when its answer went
 * out (or the client would not take it).
 *
 * <p>Listeners are made once per gateway and shared by every request: what one request needs kept (its span) is in
 * the {@link ExchangeFacts} it is given. A listener must not throw, and must not block: it runs inside the
 * exchange. {@link #interToken} comes for every piece of generated text: it must not allocate.
 */
public interface ExchangeListener {

  /** The exchange took the request (after the dialect read it and the key was let through). */
  default void started(ExchangeFacts exchange) {
  }

  /**
   * The router chose a worker for the next attempt.
   *
   * @param policy      the model's routing policy's name
   * @param promptChars the prompt's length, as routed
   */
  default void routed(ExchangeFacts exchange, String policy, Pick pick, int promptChars) {
  }

  /** The worker offered the request refused it or failed before it answered; another may be tried. */
  default void attemptFailed(ExchangeFacts exchange, GenerateError refusal) {
  }

  /** Every worker of the model was full or kept away by its circuit: the request waits in the gateway's queue. */
  default void queued(ExchangeFacts exchange) {
  }

  /** The first generated text reached the answer, {@code sinceStartNanos} after the request came in. */
  default void firstToken(ExchangeFacts exchange, long sinceStartNanos) {
  }

  /** A further piece of generated text reached the answer, {@code gapNanos} after the one before it. */
  default void interToken(ExchangeFacts exchange, long gapNanos) {
  }

  /** The worker failed mid-stream: the stream goes on on another worker from the text so far. */
  default void migrated(ExchangeFacts exchange, GenerateError failure) {
  }

  /**
   * A request for an alias passed over one of its models to the next (before anything was written).
   *
   * @param from the model passed over
   * @param to   the model tried next
   * @param why  why {@code from} could not serve it, in words
   */
  default void fellBack(ExchangeFacts exchange, String from, String to, String why) {
  }

  /**
   * No worker works for the request any more (it completed, failed, or was cancelled): what was generated is spent
   * whether or not the client takes it.
   *
   * @param usage                 the worker's count of a completed request; null when it did not complete
   * @param completionTokensSoFar completion tokens received, over every worker the request went through
   */
  default void generationEnded(ExchangeFacts exchange, Usage usage, int completionTokensSoFar) {
  }

  /** The request's outcome, once, when its answer went out to the connection or the client would not take it. */
  default void finished(ExchangeOutcome outcome) {
  }
}
