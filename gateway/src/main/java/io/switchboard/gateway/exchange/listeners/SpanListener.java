package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.tracing.RequestSpans;

import java.util.HashMap;
import java.util.Map;

/**
 * Ends each request's span with its outcome: status, model, worker, why it was routed there, migrations, time to
 * first token and tokens. The span itself is the request's ({@link ExchangeFacts#span()}): the exchange starts it,
 * because its context goes to the workers. A span that is not recorded costs nothing here.
 */
public final class SpanListener implements ExchangeListener {

  @Override
  public void finished(ExchangeOutcome outcome) {
    ExchangeFacts exchange = outcome.exchange();
    RequestSpans.RequestSpan span = exchange.span();
    if (!span.recording()) {
      return;
    }
    Map<String, Object> attributes = new HashMap<>();
    attributes.put("switchboard.request_id", exchange.requestId());
    attributes.put("gen_ai.request.model", exchange.shownModel());
    attributes.put("switchboard.worker", outcome.workerId());
    attributes.put("switchboard.routed_because", outcome.routedBecause());
    attributes.put("switchboard.stream", exchange.stream());
    attributes.put("switchboard.migrations", outcome.migrations());
    attributes.put("switchboard.ttft_ms", outcome.ttftMs());
    attributes.put("gen_ai.usage.input_tokens", outcome.usage() == null ? null : outcome.usage().promptTokens());
    attributes.put("gen_ai.usage.output_tokens",
        outcome.usage() == null ? outcome.completionTokensSoFar() : outcome.usage().completionTokens());
    span.end(outcome.status(), outcome.error() == null ? null : outcome.error().getMessage(), attributes);
  }
}
