package io.switchboard.gateway.security;

/**
 * The bytes of request bodies a gateway holds at once ({@code gateway.limits.maxInFlightBodyBytes}): a request
 * reserves its size when its head arrives and gives it back when it ends. Confined to the gateway's event loop.
 */
public final class BodyBudget {

  private final long limit;
  private long held;
  private long refused;

  public BodyBudget(long limit) {
    this.limit = limit;
  }

  /** Reserves {@code bytes} if they fit; false (and nothing reserved) if they do not. */
  public boolean tryReserve(long bytes) {
    if (held + bytes > limit) {
      refused++;
      return false;
    }
    held += bytes;
    return true;
  }

  public void release(long bytes) {
    held -= bytes;
  }

  public long held() {
    return held;
  }

  public long limit() {
    return limit;
  }

  public long refused() {
    return refused;
  }
}
