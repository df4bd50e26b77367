package io.switchboard.gateway.exchange;

import io.switchboard.runtime.time.DeadlineSweep;


/**
 * Watches one worker at a time for its first chunk: if none arrives within the limit (gateway.firstTokenTimeoutMs),
 * it runs the give-up action. Re-armed for each worker a request goes to. Used on the gateway's event loop; the
 * deadline is kept by the gateway's {@link DeadlineSweep}, not a timer of its own.
 */
final class FirstTokenWatchdog {

  private final DeadlineSweep deadlines;
  private final long limitMs;
  private DeadlineSweep.Deadline deadline;
  private boolean produced;

  FirstTokenWatchdog(DeadlineSweep deadlines, long limitMs) {
    this.deadlines = deadlines;
    this.limitMs = limitMs;
  }

  long limitMs() {
    return limitMs;
  }

  /** Starts watching a new worker; {@code onSilent} runs if it sends nothing in time. No limit: does nothing. */
  void watch(Runnable onSilent) {
    cancel();
    produced = false;
    if (limitMs <= 0) {
      return;
    }
    deadline = deadlines.watch(limitMs, () -> {
      deadline = null;
      if (!produced) {
        onSilent.run();
      }
    });
  }

  /** The watched worker sent something (a chunk, an error or the end). */
  void produced() {
    produced = true;
  }

  void cancel() {
    if (deadline != null) {
      deadline.cancel();
      deadline = null;
    }
  }
}
