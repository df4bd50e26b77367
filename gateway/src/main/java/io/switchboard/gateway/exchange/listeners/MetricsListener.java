package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.routing.Pick;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;

/**
 * Counts exchanges in the gateway's metrics: in flight, routing decisions, failed attempts, queueing, time to first
 * token and between tokens, migrations, tokens of completed requests, and each request's status and duration by
 * model and by the dialect's endpoint.
 */
public final class MetricsListener implements ExchangeListener {

  private final GatewayMetrics metrics;

  public MetricsListener(GatewayMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void started(ExchangeFacts exchange) {
    metrics.requestStarted();
  }

  @Override
  public void routed(ExchangeFacts exchange, String policy, Pick pick, int promptChars) {
    metrics.routed(exchange.model(), policy, pick.reason(), pick.matchedChars(), promptChars);
  }

  @Override
  public void attemptFailed(ExchangeFacts exchange, GenerateError refusal) {
    metrics.attemptFailed(exchange.model());
  }

  @Override
  public void queued(ExchangeFacts exchange) {
    metrics.queued(exchange.model());
  }

  @Override
  public void firstToken(ExchangeFacts exchange, long sinceStartNanos) {
    metrics.firstToken(exchange.model(), sinceStartNanos);
  }

  @Override
  public void interToken(ExchangeFacts exchange, long gapNanos) {
    metrics.interToken(exchange.model(), gapNanos);
  }

  @Override
  public void migrated(ExchangeFacts exchange, GenerateError failure) {
    metrics.migrated(exchange.model());
  }

  @Override
  public void fellBack(ExchangeFacts exchange, String from, String to, String why) {
    metrics.aliasFellBack(exchange.model(), from, to);
  }

  /** Tokens are counted when the worker's count comes, whether or not the client then takes the answer. */
  @Override
  public void generationEnded(ExchangeFacts exchange, Usage usage, int completionTokensSoFar) {
    if (usage != null) {
      metrics.tokens(exchange.model(), usage);
    }
  }

  @Override
  public void finished(ExchangeOutcome outcome) {
    metrics.requestFinished(outcome.exchange().model(), outcome.endpoint(), outcome.status(), outcome.stream(),
        outcome.durationNanos());
  }
}
