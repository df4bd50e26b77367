package io.switchboard.gateway.resilience;

import java.util.function.DoubleSupplier;

/**
 * The pause before a request is offered to the next worker. The first retry goes at once (another worker is as
 * likely as not to be fine); from the second retry on, {@code baseMs} doubling per attempt (capped at 1024 ×),
 * scaled by a random factor in [0.5, 1.5) so requests that failed together do not come back together.
 */
public final class RetryBackoff {

  private static final int MAX_DOUBLINGS = 10;

  private final long baseMs;
  private final DoubleSupplier random;

  /** @param random uniform in [0, 1) */
  public RetryBackoff(long baseMs, DoubleSupplier random) {
    this.baseMs = baseMs;
    this.random = random;
  }

  /** @param attempt the attempt that just failed, counted from 1 */
  public long delayMs(int attempt) {
    if (baseMs == 0 || attempt <= 1) {
      return 0;
    }
    long backoff = baseMs << Math.min(MAX_DOUBLINGS, attempt - 2);
    return (long) (backoff * (0.5 + random.getAsDouble()));
  }
}
