package io.switchboard.gateway.metrics;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The last minute of this gateway's traffic in one-second buckets, for the live dashboard: requests answered,
 * failures (5xx), client disconnects, and times to first token (a bounded sample per second for the median).
 * Prometheus has the full history; this answers "what is happening now" without a Prometheus server.
 */
public final class RecentTraffic {

  static final int SECONDS = 60;
  static final int TTFT_SAMPLES_PER_SECOND = 256;

  private final LongSupplier clockMs;
  private final long[] second = new long[SECONDS];
  private final int[] requests = new int[SECONDS];
  private final int[] failures = new int[SECONDS];
  private final int[] cancelled = new int[SECONDS];
  private final long[][] ttftMs = new long[SECONDS][TTFT_SAMPLES_PER_SECOND];
  private final int[] ttftCount = new int[SECONDS];

  public RecentTraffic(LongSupplier clockMs) {
    this.clockMs = clockMs;
    Arrays.fill(second, -1);
  }

  public synchronized void finished(int status) {
    int slot = slot();
    requests[slot]++;
    if (status >= 500) {
      failures[slot]++;
    } else if (status == 499) {
      cancelled[slot]++;
    }
  }

  public synchronized void firstToken(long ms) {
    int slot = slot();
    if (ttftCount[slot] < TTFT_SAMPLES_PER_SECOND) {
      ttftMs[slot][ttftCount[slot]++] = ms;
    }
  }

  /** Rates over the last {@code windowSeconds} complete and current seconds, and the TTFT median. */
  public synchronized JsonObject snapshot(int windowSeconds) {
    long now = clockMs.getAsLong() / 1000;
    int window = Math.min(SECONDS, Math.max(1, windowSeconds));
    long total = 0;
    long failed = 0;
    long gone = 0;
    long[] samples = new long[window * TTFT_SAMPLES_PER_SECOND];
    int sampleCount = 0;
    for (int i = 0; i < SECONDS; i++) {
      if (second[i] >= 0 && now - second[i] < window) {
        total += requests[i];
        failed += failures[i];
        gone += cancelled[i];
        System.arraycopy(ttftMs[i], 0, samples, sampleCount, ttftCount[i]);
        sampleCount += ttftCount[i];
      }
    }
    Arrays.sort(samples, 0, sampleCount);
    return new JsonObject()
        .put("windowSeconds", window)
        .put("requestsPerSecond", round((double) total / window))
        .put("failuresPerSecond", round((double) failed / window))
        .put("cancelledPerSecond", round((double) gone / window))
        .put("errorRate", total == 0 ? 0.0 : round((double) failed / total))
        .put("ttftP50Ms", sampleCount == 0 ? null : samples[sampleCount / 2])
        .put("ttftP95Ms", sampleCount == 0 ? null : samples[Math.min(sampleCount - 1, (int) (sampleCount * 0.95))]);
  }

  private int slot() {
    long now = clockMs.getAsLong() / 1000;
    int slot = (int) (now % SECONDS);
    if (second[slot] != now) {
      second[slot] = now;
      requests[slot] = 0;
      failures[slot] = 0;
      cancelled[slot] = 0;
      ttftCount[slot] = 0;
    }
    return slot;
  }

  private static double round(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
