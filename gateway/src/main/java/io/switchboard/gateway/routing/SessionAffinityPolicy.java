package io.switchboard.gateway.routing;

import io.switchboard.gateway.registry.WorkerState;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Keeps a session on one worker: the session named by the {@code x-session-id} header (configurable), else by
 * the body's {@code user} field. A new session, or one whose worker is gone or overloaded (the
 * {@link BalanceGuard}), goes to the least loaded worker and stays there from then on. Requests without a
 * session are routed by load. Sessions are forgotten after {@code sessionTtlMs} idle, or least recently used
 * first beyond {@code sessionMaxEntries}.
 */
public final class SessionAffinityPolicy implements RoutingPolicy {

  public static final String NAME = "session-affinity";

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
    String session = request.sessionKey();
    if (session == null) {
      return Pick.of(leastLoaded.leastLoaded(candidates), "load", request);
    }
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

  int sessions() {
    return sessions.size();
  }
}
