package io.switchboard.gateway.exchange.listeners;

import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeListener;
import io.switchboard.gateway.security.ApiKey;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.protocol.Usage;

/**
 * Charges what a request generated to its API key's tokens-per-minute budget, once no worker works for it: the
 * worker's count (prompt and completion) when it completed, else the completion tokens received until it failed or
 * was cancelled. A key without a token limit is charged nothing.
 */
public final class TokenChargeListener implements ExchangeListener {

  private final RateLimiter rateLimiter;

  public TokenChargeListener(RateLimiter rateLimiter) {
    this.rateLimiter = rateLimiter;
  }

  @Override
  public void generationEnded(ExchangeFacts exchange, Usage usage, int completionTokensSoFar) {
    ApiKey key = exchange.apiKey();
    if (key != null && key.tokensPerMinute() > 0) {
      rateLimiter.charge(key, usage != null ? usage.promptTokens() + usage.completionTokens() : completionTokensSoFar);
    }
  }
}
