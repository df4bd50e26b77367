package io.switchboard.gateway.security;

/**
 * Lets a repeated warning through at most once per interval, so a flood of bad clients cannot flood the log;
 * counts the occurrences in between so the line that gets through can say how many there were.
 */
final class LogThrottle {

  private final long intervalMs;
  private long lastMs;
  private long counted;
  private boolean logged;

  LogThrottle(long intervalMs) {
    this.intervalMs = intervalMs;
  }

  /** Counts one occurrence; returns how many occurred since the last line if one is due now, else -1. */
  synchronized long due(long nowMs) {
    counted++;
    if (logged && nowMs - lastMs < intervalMs) {
      return -1;
    }
    logged = true;
    lastMs = nowMs;
    long since = counted;
    counted = 0;
    return since;
  }
}
