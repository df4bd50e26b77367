package io.switchboard.gateway.security;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Requests each API key has in progress on this gateway, against its cap ({@code concurrency=}, else
 * {@code gateway.rateLimits.concurrentRequests}). Only capped keys are counted, and a key's entry goes when its
 * count returns to 0, so the map holds no more keys than have requests in progress. Confined to the gateway's
 * event loop.
 */
public final class KeyConcurrency {

  private final Map<String, Integer> inProgress = new HashMap<>();
  private long refused;

  /**
   * Counts one more request of {@code key} if it is under its cap. Returns the name it was counted under (to
   * give to {@link #release}), "" when the key has no cap (nothing counted), or null when it is at its cap.
   */
  public String tryAcquire(ApiKey key) {
    int cap = key.concurrentRequests();
    if (cap <= 0) {
      return "";
    }
    int now = inProgress.getOrDefault(key.name(), 0);
    if (now >= cap) {
      refused++;
      return null;
    }
    inProgress.put(key.name(), now + 1);
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
    return refused;
  }

  /** Capped keys with requests in progress, by name. */
  public JsonObject snapshot() {
    return new JsonObject(new TreeMap<String, Object>(inProgress));
  }
}
