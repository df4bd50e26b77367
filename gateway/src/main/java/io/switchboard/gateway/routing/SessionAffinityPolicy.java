package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Keeps a session on one worker: the session named by the {@code x-session-id} header (configurable), else by
 * the body's {@code user} field. A new session, or one whose worker is gone or overloaded (the
 * {@link BalanceGuard}), goes to the least loaded worker and stays there from then on. Requests without a
 * session are routed by load. Sessions are forgotten after {@code sessionTtlMs} idle, or least recently used
 * first beyond {@code sessionMaxEntries}. The client names its sessions, in any length: a name longer than
 * {@value #MAX_KEY_CHARS} characters is remembered by its SHA-256 instead (71 characters), so an entry's size is
 * bounded whatever the client sends.
 */
public final class SessionAffinityPolicy implements RoutingPolicy {

  public static final String NAME = "session-affinity";
  /** Longest session name kept as it is. */
  static final int MAX_KEY_CHARS = 64;

  private final LongSupplier clock;
  private final long ttlNanos;
  private final BalanceGuard guard;
  private final LeastLoadedPolicy leastLoaded = new LeastLoadedPolicy();
  private final LinkedHashMap<String, Binding> sessions;

  private record Binding(String workerId, long lastUsedNanos) {
  }

  public SessionAffinityPolicy(RouterOptions options, LongSupplier clock) {
    this.clock = clock;
    this.ttlNanos = options.getSessionTtlMs() * 1_000_000L;
    this.guard = new BalanceGuard(options.getBalanceAbsThreshold(), options.getBalanceRelThreshold());
    int max = options.getSessionMaxEntries();
    this.sessions = new LinkedHashMap<>(256, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Binding> eldest) {
        return size() > max;
      }
    };
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pick pick(RouteRequest request, List<WorkerState> candidates) {
    if (request.sessionKey() == null) {
      return Pick.of(leastLoaded.leastLoaded(candidates), "load", request);
    }
    String session = keyOf(request.sessionKey());
    long now = clock.getAsLong();
    Binding binding = sessions.get(session);
    String reason = "load";
    if (binding != null && now - binding.lastUsedNanos() <= ttlNanos) {
      for (WorkerState worker : candidates) {
        if (worker.workerId().equals(binding.workerId())) {
          if (!guard.overloaded(worker, guard.spread(candidates))) {
            sessions.put(session, new Binding(worker.workerId(), now));
            return Pick.of(worker, "session", request);
          }
          reason = "balance";
          break;
        }
      }
    }
    WorkerState chosen = leastLoaded.leastLoaded(candidates);
    sessions.put(session, new Binding(chosen.workerId(), now));
    return Pick.of(chosen, reason, request);
  }

  /** The session name as the map keeps it: itself if short, else {@code sha256:} and its digest in hex. */
  static String keyOf(String session) {
    if (session.length() <= MAX_KEY_CHARS) {
      return session;
    }
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(session.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  int sessions() {
    return sessions.size();
  }

  /** Characters the remembered session names hold in all. */
  long keyChars() {
    long chars = 0;
    for (String key : sessions.keySet()) {
      chars += key.length();
    }
    return chars;
  }
}
