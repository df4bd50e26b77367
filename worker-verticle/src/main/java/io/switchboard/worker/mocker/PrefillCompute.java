package io.switchboard.worker.mocker;

/**
 * The simulated accelerator's prefill capacity: prompts are computed one after another at
 * {@code prefillTokensPerSecond}, so a burst of long uncached prompts queues (as on a real GPU, where prefill
 * is compute-bound) while cached prompts pass quickly. Decoding is modelled separately, per stream.
 * Not thread-safe: used on the worker's event loop.
 */
final class PrefillCompute {

  private long busyUntilNanos;

  /** Books {@code workNanos} of prefill after everything booked before; returns when it will be done. */
  long book(long workNanos) {
    long now = System.nanoTime();
    long start = Math.max(now, busyUntilNanos);
    busyUntilNanos = start + workNanos;
    return busyUntilNanos;
  }

  /** Gives back booked work that will not run (a cancelled prompt still waiting at the end of the queue). */
  void refund(long doneAtNanos, long workNanos) {
    if (doneAtNanos == busyUntilNanos) {
      busyUntilNanos -= workNanos;
    }
  }

  /** How long a prompt booked now would wait before its own prefill starts. */
  long backlogNanos() {
    return Math.max(0, busyUntilNanos - System.nanoTime());
  }
}
