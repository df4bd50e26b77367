package io.switchboard.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.gateway.api.InFlightRequests;
import io.switchboard.gateway.metrics.ClusterGauges;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.models.AliasShadowWatch;
import io.switchboard.gateway.models.ModelAliases;
import io.switchboard.gateway.registry.WorkerState;
import io.switchboard.gateway.security.ApiKeySource;
import io.switchboard.gateway.security.BodyBudget;
import io.switchboard.gateway.security.KeyConcurrency;
import io.switchboard.gateway.security.OpenConnections;
import io.switchboard.gateway.security.RateLimiter;
import io.switchboard.gateway.config.GatewayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * What every gateway instance of one node shares (a node runs one instance per event loop, node.eventLoops): the
 * node-wide limits (open connections, request bodies held, each key's concurrent requests), the API keys, the rate
 * limiter, the metrics, the list of requests in progress and the cluster gauges. Built once per node, before its
 * instances start; every piece is safe to use from each instance's event loop, so a limit holds for the node
 * however its connections are spread over the loops. What stays per instance (its HTTP server, stream table,
 * worker registry view, circuits, admission queue) is in {@link GatewayVerticle}.
 */
public final class GatewayNodeState {

  /** Vert.x shares a listening port among servers asking for the same negative port: one per node's gateway. */
  private static final AtomicInteger SHARED_RANDOM_PORTS = new AtomicInteger();

  /**
   * One gateway instance as the shared parts need to see it: its open streams and whether its registry knows a
   * model. Equal only when made of the same method references, so each instance's is its own.
   */
  public record Instance(IntSupplier openStreams, Predicate<String> knowsModel) {
  }

  private final int instances;
  private final int sharedRandomPort = -SHARED_RANDOM_PORTS.incrementAndGet();
  private final ApiKeySource apiKeys;
  private final RateLimiter rateLimiter;
  private final BodyBudget bodies;
  private final KeyConcurrency keyConcurrency = new KeyConcurrency();
  private final OpenConnections connections;
  private final InFlightRequests inFlight = new InFlightRequests();
  private final GatewayMetrics metrics;
  private final ClusterGauges gauges;
  private final AliasShadowWatch shadowWatch;
  private final List<Instance> running = new CopyOnWriteArrayList<>();
  private final Map<Instance, Map<String, Integer>> waitingByInstance = new ConcurrentHashMap<>();

  /** @param instances how many gateway instances the node runs (each takes its share of the admission queue) */
  public GatewayNodeState(Vertx vertx, GatewayOptions options, MeterRegistry meterRegistry, int instances) {
    if (instances < 1) {
      throw new IllegalArgumentException("a node runs at least one gateway instance, got " + instances);
    }
    this.instances = instances;
    this.apiKeys = new ApiKeySource(vertx, options, meterRegistry);
    this.rateLimiter = new RateLimiter(vertx, options.getRateLimits());
    this.bodies = new BodyBudget(options.getLimits().inFlightBodyBudget(options.getMaxBodyBytes(),
        Runtime.getRuntime().maxMemory()));
    this.connections = new OpenConnections(options.getLimits().getMaxConnections());
    ModelAliases aliases = options.getModels().aliases();
    // Aliases are configured, so as bounded as the served models: they are tagged by name too (within the cap).
    Predicate<String> named = model -> aliases.isAlias(model)
        || running.stream().anyMatch(i -> i.knowsModel().test(model));
    IntSupplier openStreams = () -> running.stream().mapToInt(i -> i.openStreams().getAsInt()).sum();
    this.metrics = new GatewayMetrics(meterRegistry, openStreams::getAsInt, named, options.getMetricsMaxModels());
    this.gauges = new ClusterGauges(meterRegistry);
    this.shadowWatch = new AliasShadowWatch(aliases);
  }

  /** Loads the API keys (a file that cannot be read fails the start, with its reason). */
  public Future<Void> start() {
    return apiKeys.start().mapEmpty();
  }

  public void stop() {
    apiKeys.stop();
  }

  /** An instance started serving. */
  public void joined(Instance instance) {
    running.add(instance);
  }

  /** An instance stopped: its streams and queued requests no longer count. */
  public void left(Instance instance) {
    running.remove(instance);
    waitingByInstance.remove(instance);
  }

  /**
   * Each instance's view, once a second. The first running instance publishes the node's gauges and checks the
   * aliases, with the requests waiting in every instance's admission queue added up; the others only hand in theirs.
   */
  public void publishGauges(Instance from, List<WorkerState> workers, Function<String, String> circuitState,
                            Map<String, Integer> waiting, int memberCount, Set<String> served) {
    waitingByInstance.put(from, waiting);
    if (running.isEmpty() || running.get(0) != from) {
      return;
    }
    Map<String, Integer> total = new HashMap<>();
    waitingByInstance.values().forEach(each -> each.forEach((model, count) -> total.merge(model, count, Integer::sum)));
    gauges.update(workers, circuitState, total, memberCount);
    shadowWatch.check(served);
  }

  /**
   * Each instance's share of gateway.admissionQueueSize (per model), rounded up, so the node holds about as many
   * waiting requests as it says; 0 (no queue) stays 0.
   */
  public int admissionQueueShare(int admissionQueueSize) {
    return (admissionQueueSize + instances - 1) / instances;
  }

  /**
   * The port an instance listens on: the configured one, or, when that is 0 (any free port) and the node runs more
   * than one instance, a negative port that Vert.x binds once at random and shares among the instances.
   */
  public int listenPort(int configuredPort) {
    return configuredPort == 0 && instances > 1 ? sharedRandomPort : configuredPort;
  }

  public int instances() {
    return instances;
  }

  public ApiKeySource apiKeys() {
    return apiKeys;
  }

  public RateLimiter rateLimiter() {
    return rateLimiter;
  }

  public BodyBudget bodies() {
    return bodies;
  }

  public KeyConcurrency keyConcurrency() {
    return keyConcurrency;
  }

  public OpenConnections connections() {
    return connections;
  }

  public InFlightRequests inFlight() {
    return inFlight;
  }

  public GatewayMetrics metrics() {
    return metrics;
  }
}
