package io.switchboard.gateway.registry;

/**
 * What this gateway has open on one worker: requests sent and not ended, and how many prompt characters of
 * them the router expects still to be prefilled (sent, no first token yet, not found in the worker's cache).
 * Counted when the router sends a request, uncounted as it progresses, so routing sees each decision at once
 * instead of a second later in the worker's load report. Shared by every {@link WorkerState} of that worker;
 * used only on the gateway verticle's event loop.
 */
public final class LocalInFlight {

  private int open;
  private long pendingPrefillChars;

  public int get() {
    return open;
  }

  public void increment() {
    open++;
  }

  public void decrement() {
    if (open > 0) {
      open--;
    }
  }

  public long pendingPrefillChars() {
    return pendingPrefillChars;
  }

  public void addPendingPrefill(long chars) {
    pendingPrefillChars = Math.max(0, pendingPrefillChars + chars);
  }
}
