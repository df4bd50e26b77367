package io.switchboard.gateway.api;

import io.vertx.core.Vertx;

/**
 * Watches one worker at a time for its first chunk: if none arrives within the limit (gateway.firstTokenTimeoutMs),
 * it runs the give-up action. Re-armed for each worker a request goes to. Used on the gateway's event loop.
 */
final class FirstTokenWatchdog {

  private final Vertx vertx;
  private final long limitMs;
  private long timer = -1;
  private boolean produced;

  FirstTokenWatchdog(Vertx vertx, long limitMs) {
    this.vertx = vertx;
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
    timer = vertx.setTimer(limitMs, id -> {
      timer = -1;
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
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
