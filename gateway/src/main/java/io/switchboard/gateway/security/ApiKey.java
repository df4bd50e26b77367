package io.switchboard.gateway.security;

import java.util.Set;

/**
 * One client's API key as the gateway keeps it: never the key itself, only its SHA-256.
 *
 * @param name               how logs, errors and rate-limit counters name the key (its {@code name=}, else
 *                           {@code key-} and the first 12 hex digits of its hash, which do not reveal the key)
 * @param models             the models it may use; empty = all
 * @param requestsPerMinute  0 = no limit
 * @param tokensPerMinute    0 = no limit
 * @param concurrentRequests requests it may have in progress at once on one node's gateway; 0 = no cap
 */
public record ApiKey(String name, byte[] sha256, Set<String> models, long requestsPerMinute, long tokensPerMinute,
                     int concurrentRequests) {

  public ApiKey(String name, byte[] sha256, Set<String> models, long requestsPerMinute, long tokensPerMinute) {
    this(name, sha256, models, requestsPerMinute, tokensPerMinute, 0);
  }

  /** The identity of every request when no key is configured (the gateway is open). */
  public static ApiKey anonymous(RateLimitOptions limits) {
    return new ApiKey("anonymous", new byte[0], Set.of(), limits.getRequestsPerMinute(), limits.getTokensPerMinute(),
        limits.getConcurrentRequests());
  }

  public boolean allows(String model) {
    return models.isEmpty() || models.contains(model);
  }

  public boolean rateLimited() {
    return requestsPerMinute > 0 || tokensPerMinute > 0;
  }
}
