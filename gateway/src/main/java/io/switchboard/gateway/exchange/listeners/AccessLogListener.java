package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.exchange.GenerationExchange;
import io.switchboard.protocol.Usage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * The access log: one {@code request completed} line per request answered with 200 (request and trace id, node,
 * model, worker and why it was chosen, stream, finish reason, tokens, time to first token, duration). Failures are
 * logged by the exchange as they happen, with what the worker said. A gateway with gateway.logRequests off has no
 * such listener.
 */
public final class AccessLogListener implements ExchangeListener {

  /** The exchange's logger, as before the line moved here: operators filter on its name. */
  private static final Logger log = LoggerFactory.getLogger(GenerationExchange.class);

  private final String nodeId;

  public AccessLogListener(String nodeId) {
    this.nodeId = nodeId;
  }

  @Override
  public void finished(ExchangeOutcome outcome) {
    Usage usage = outcome.usage();
    if (outcome.status() != 200 || usage == null) {
      return;
    }
    ExchangeFacts exchange = outcome.exchange();
    log.info("request completed", kv("requestId", exchange.requestId()), kv("traceId", exchange.traceId()),
        kv("node", nodeId), kv("model", exchange.shownModel()), kv("servedModel", outcome.servedModel()),
        kv("workerId", outcome.workerId()), kv("routedBecause", outcome.routedBecause()),
        kv("status", outcome.status()), kv("stream", exchange.stream()),
        kv("finishReason", outcome.finishReason()), kv("promptTokens", usage.promptTokens()),
        kv("completionTokens", usage.completionTokens()), kv("cachedTokens", usage.cachedTokens()),
        kv("ttftMs", outcome.ttftMs()), kv("durationMs", outcome.durationMs()));
  }
}
