package io.switchboard.gateway.security;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies a node's gateway holds at once ({@code gateway.limits.maxInFlightBodyBytes}): a request
 * reserves its size when its head arrives and gives it back when it ends. One budget serves every gateway instance
 * of the node (node.eventLoops), so the bound holds for the node's heap however many loops take requests; safe to
 * use from any thread.
 */
public final class BodyBudget {

  private final long limit;
  private final AtomicLong held = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  public BodyBudget(long limit) {
    this.limit = limit;
  }

  /** Reserves {@code bytes} if they fit; false (and nothing reserved) if they do not. */
  public boolean tryReserve(long bytes) {
    while (true) {
      long now = held.get();
      if (now + bytes > limit) {
        refused.incrementAndGet();
        return false;
      }
      if (held.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  public void release(long bytes) {
    held.addAndGet(-bytes);
  }

  public long held() {
    return held.get();
  }

  public long limit() {
    return limit;
  }

  public long refused() {
    return refused.get();
  }
}
