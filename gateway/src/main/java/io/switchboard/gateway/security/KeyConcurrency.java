package io.switchboard.gateway.security;

import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Requests each API key has in progress on this node's gateway, against its cap ({@code concurrency=}, else
 * {@code gateway.rateLimits.concurrentRequests}). Only capped keys are counted, and a key's entry goes when its
 * count returns to 0, so the map holds no more keys than have requests in progress. One count serves every gateway
 * instance of the node (node.eventLoops), so a key's cap holds however many loops take its requests; safe to use
 * from any thread.
 */
public final class KeyConcurrency {

  private final Map<String, Integer> inProgress = new ConcurrentHashMap<>();
  private final AtomicLong refused = new AtomicLong();

  /**
   * Counts one more request of {@code key} if it is under its cap. Returns the name it was counted under (to
   * give to {@link #release}), "" when the key has no cap (nothing counted), or null when it is at its cap.
   */
  public String tryAcquire(ApiKey key) {
    int cap = key.concurrentRequests();
    if (cap <= 0) {
      return "";
    }
    boolean[] counted = new boolean[1];
    inProgress.compute(key.name(), (name, now) -> {
      int current = now == null ? 0 : now;
      if (current >= cap) {
        return now;
      }
      counted[0] = true;
      return current + 1;
    });
    if (!counted[0]) {
      refused.incrementAndGet();
      return null;
    }
    return key.name();
  }

  /** One request counted under {@code name} ended. */
  public void release(String name) {
    if (name.isEmpty()) {
      return;
    }
    inProgress.computeIfPresent(name, (n, count) -> count <= 1 ? null : count - 1);
  }

  public int inProgress(String name) {
    return inProgress.getOrDefault(name, 0);
  }

  public long refused() {
    return refused.get();
  }

  /** Capped keys with requests in progress, by name. */
  public JsonObject snapshot() {
    return new JsonObject(new TreeMap<String, Object>(inProgress));
  }
}
