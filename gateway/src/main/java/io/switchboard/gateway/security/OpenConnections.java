package io.switchboard.gateway.security;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client connections open on a node's gateway, against {@code gateway.limits.maxConnections}, and how many
 * were refused or timed out. One count serves every gateway instance of the node (node.eventLoops), so the cap holds
 * for the node however the connections are spread over its loops; safe to use from any thread.
 */
public final class OpenConnections {

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();

  public OpenConnections(int max) {
    this.max = max;
  }

  /** Counts one more connection if the node holds fewer than the cap; false (counted as refused) if not. */
  public boolean tryOpen() {
    while (true) {
      int now = open.get();
      if (now >= max) {
        refused.incrementAndGet();
        return false;
      }
      if (open.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  public void closed() {
    open.decrementAndGet();
  }

  public void timedOut() {
    timedOut.incrementAndGet();
  }

  public int max() {
    return max;
  }

  public int open() {
    return open.get();
  }

  public long refused() {
    return refused.get();
  }

  public long timedOutCount() {
    return timedOut.get();
  }
}
