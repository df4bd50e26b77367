package io.switchboard.gateway.security;

import io.switchboard.runtime.config.GenerateOptions;
import io.switchboard.runtime.config.Range;

import java.util.List;

/**
 * Default limits of every API key ({@code gateway.rateLimits.*}); a key's own {@code rpm=} / {@code tpm=} /
 * {@code concurrency=} overrides them. Requests and tokens per minute are counted across every gateway of the
 * cluster, concurrent requests per gateway. With no API keys configured they apply to all traffic together.
 * 0 = no limit.
 */
@GenerateOptions
public abstract class RateLimitOptionsSpec {

  public static final List<String> WHEN_UNREACHABLE = List.of("allow", "refuse");

  long requestsPerMinute = 0;
  long tokensPerMinute = 0;
  /** Requests one key may have in progress at once on one gateway; 0 = no cap. */
  @Range(min = 0, meaning = " (0 = no cap)")
  int concurrentRequests = 0;
  /** What a limited key's request gets when the cluster's counters do not answer within 100 ms. */
  String whenUnreachable = "allow";

  public void validate(String path) {
    if (requestsPerMinute < 0 || requestsPerMinute > 60_000_000) {
      throw new IllegalArgumentException(path + ".requestsPerMinute must be between 0 (no limit) and 60000000, got "
          + requestsPerMinute);
    }
    if (tokensPerMinute < 0 || tokensPerMinute > 60_000_000_000L) {
      throw new IllegalArgumentException(path + ".tokensPerMinute must be between 0 (no limit) and 60000000000, got "
          + tokensPerMinute);
    }
    if (!WHEN_UNREACHABLE.contains(whenUnreachable)) {
      throw new IllegalArgumentException(path + ".whenUnreachable must be one of " + WHEN_UNREACHABLE
          + " (what a rate-limited request gets while the cluster's counters do not answer), got '" + whenUnreachable
          + "'");
    }
  }

  /** Whether a limited request is refused (503) while the counters cannot be reached, rather than let through. */
  public boolean refusesWhenUnreachable() {
    return "refuse".equals(whenUnreachable);
  }
}
