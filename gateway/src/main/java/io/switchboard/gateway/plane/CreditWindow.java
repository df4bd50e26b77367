package io.switchboard.gateway.plane;

/**
 * The credits of one stream whose worker may send only as many chunks as it was granted: the chunks the consumer took
 * are credited back half a window at a time, so the worker is never left waiting while the consumer waits for it,
 * and never has more than a window in flight or queued here.
 */
final class CreditWindow {

  private final int window;
  private int takenSinceGrant;

  /** @param window the credits the worker started with (the request's initial credits) */
  CreditWindow(int window) {
    this.window = window;
  }

  /** The consumer took {@code chunks} more: the credits to grant the worker now, or 0 to wait for more. */
  int taken(int chunks) {
    takenSinceGrant += chunks;
    if (takenSinceGrant < window / 2 || takenSinceGrant == 0) {
      return 0;
    }
    int grant = takenSinceGrant;
    takenSinceGrant = 0;
    return grant;
  }
}
