package io.switchboard.gateway.security;

/**
 * Lets a repeated log line through at most {@code linesPerInterval} times per interval, so a flood of bad clients
 * cannot flood the log; counts the occurrences in between so the line that gets through can say how many there
 * were.
 */
public final class LogThrottle {

  private final long intervalMs;
  private final int linesPerInterval;
  private long windowStartMs;
  private int linesInWindow;
  private long counted;
  private boolean logged;

  /** At most one line per interval. */
  public LogThrottle(long intervalMs) {
    this(intervalMs, 1);
  }

  public LogThrottle(long intervalMs, int linesPerInterval) {
    this.intervalMs = intervalMs;
    this.linesPerInterval = linesPerInterval;
  }

  /**
   * Counts one occurrence; returns how many occurred since the last line let through, this one included (1 = none
   * was left out), if a line is due now, else -1.
   */
  public synchronized long due(long nowMs) {
    counted++;
    if (!logged || nowMs - windowStartMs >= intervalMs) {
      logged = true;
      windowStartMs = nowMs;
      linesInWindow = 0;
    }
    if (linesInWindow >= linesPerInterval) {
      return -1;
    }
    linesInWindow++;
    long since = counted;
    counted = 0;
    return since;
  }
}
