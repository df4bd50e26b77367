package io.switchboard.gateway.exchange;

import io.switchboard.gateway.http.ApiError;
import io.switchboard.protocol.Usage;

/**
 * How one exchange ended, as its client got it.
 *
 * @param status                the HTTP status the client got: 499 when it went away or would not take the answer
 * @param error                 why it failed, as the client was told; null when it completed
 * @param usage                 the worker's count of a completed request (zeros when it sent none); null otherwise
 * @param finishReason          why generation stopped ({@code stop}, {@code length}, ...); null unless it completed
 * @param workerId              the last worker the request went to; null when none was chosen
 * @param routedBecause         why the router chose that worker ({@code prefix}, {@code load}, ...); null when none
 * @param ttftNanos             from the request's arrival to its first generated text; -1 when none came
 * @param durationNanos         from the request's arrival to its outcome
 * @param migrations            times the stream went on on another worker
 * @param completionTokensSoFar completion tokens received, over every worker
 * @param servedModel           the model the last worker was asked for: the one asked for, or an alias's model;
 *                              null when no worker was chosen
 */
public record ExchangeOutcome(ExchangeFacts exchange, int status, ApiError error, Usage usage, String finishReason,
                              String workerId, String routedBecause, long ttftNanos, long durationNanos,
                              int migrations, int completionTokensSoFar, String servedModel) {

  /** An outcome whose served model is the one asked for (none when no worker was chosen). */
  public ExchangeOutcome(ExchangeFacts exchange, int status, ApiError error, Usage usage, String finishReason,
                         String workerId, String routedBecause, long ttftNanos, long durationNanos, int migrations,
                         int completionTokensSoFar) {
    this(exchange, status, error, usage, finishReason, workerId, routedBecause, ttftNanos, durationNanos, migrations,
        completionTokensSoFar, workerId == null ? null : exchange.model());
  }

  /** The dialect's endpoint name. */
  public String endpoint() {
    return exchange.endpoint();
  }

  public boolean stream() {
    return exchange.stream();
  }

  /** Time to first token in whole milliseconds; null when no text came. */
  public Long ttftMs() {
    return ttftNanos < 0 ? null : ttftNanos / 1_000_000;
  }

  public long durationMs() {
    return durationNanos / 1_000_000;
  }
}
