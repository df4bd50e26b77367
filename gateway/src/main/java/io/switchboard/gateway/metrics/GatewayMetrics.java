package io.switchboard.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.switchboard.protocol.Usage;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The gateway's Prometheus metrics, with conventional names and units (seconds, totals):
 * <ul>
 *   <li>{@code switchboard_requests_total{model,endpoint,status}}: requests answered, by HTTP status (499 when
 *       the client went away first);</li>
 *   <li>{@code switchboard_request_duration_seconds{model,endpoint,stream}}: histogram of whole-request time;</li>
 *   <li>{@code switchboard_time_to_first_token_seconds{model}}: histogram of time to the first generated text;</li>
 *   <li>{@code switchboard_tokens_total{model,type}}: prompt and completion tokens;</li>
 *   <li>{@code switchboard_worker_attempts_failed_total{model}}: offers a worker refused (the request then went
 *       to another);</li>
 *   <li>{@code switchboard_admission_queued_total{model}}: requests that waited because every worker of their
 *       model was full (those that waited too long are counted in requests_total with status 503);</li>
 *   <li>{@code switchboard_stream_migrations_total{model}}: streams continued on another worker after theirs
 *       failed mid-generation;</li>
 *   <li>{@code switchboard_router_decisions_total{model,policy,reason}}: workers picked, and why (turn, random,
 *       load, prefix, session, balance);</li>
 *   <li>{@code switchboard_router_prompt_chars_total{model}} and
 *       {@code switchboard_router_prefix_matched_chars_total{model}}: prompt characters routed, and those the
 *       router expected the chosen worker to have cached (their ratio is its estimated prefix hit rate);</li>
 *   <li>{@code switchboard_router_prefix_shared_bytes_total{direction}}: prefix blocks sent to and received
 *       from other gateways;</li>
 *   <li>{@code switchboard_requests_in_flight}, {@code switchboard_streams_open}: gauges.</li>
 * </ul>
 * Every tag takes values from a bounded set: {@code model} is a served model's name or {@code unknown} (see
 * {@link ModelTags}); the other tags are fixed in code or in configuration (endpoints, HTTP statuses the gateway
 * answers with, policies, reasons), never a string a client sent.
 */
public final class GatewayMetrics {

  private final MeterRegistry registry;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final RecentTraffic recent = new RecentTraffic(System::currentTimeMillis);
  private final ModelTags models;
  /**
   * Meters by name and tag values: building and registering a meter is a registry lookup with allocation
   * (and Micrometer's double-registration check), which showed up in the profiles of every request
   * (docs/performance.md).
   */
  private final Map<MeterKey, Counter> counters = new ConcurrentHashMap<>();
  private final Map<MeterKey, Timer> timers = new ConcurrentHashMap<>();

  private record MeterKey(String name, String a, String b, String c) {
  }

  /**
   * @param servedModel whether the cluster serves a model now or did a moment ago: only those are named in tags
   * @param maxModels   most model names used as tag values (gateway.metricsMaxModels); beyond, {@code other}
   */
  public GatewayMetrics(MeterRegistry registry, Supplier<Number> openStreams, Predicate<String> servedModel,
                        int maxModels) {
    this.registry = registry;
    this.models = new ModelTags(servedModel, maxModels);
    registry.gauge("switchboard.requests.in.flight", inFlight);
    io.micrometer.core.instrument.Gauge.builder("switchboard.streams.open", openStreams)
        .description("Generation streams open between this gateway and workers")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The last minute, for the dashboard. */
  public RecentTraffic recent() {
    return recent;
  }


  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  public void requestFinished(String requested, String endpoint, int status, boolean stream, long durationNanos) {
    inFlight.decrementAndGet();
    recent.finished(status);
    String model = models.of(requested);
    counters.computeIfAbsent(new MeterKey("requests", model, endpoint, Integer.toString(status)),
        k -> Counter.builder("switchboard.requests")
            .description("Requests answered, by HTTP status")
            .tags("model", model, "endpoint", endpoint, "status", k.c())
            .register(registry)).increment();
    timers.computeIfAbsent(new MeterKey("duration", model, endpoint, stream ? "true" : "false"),
        k -> Timer.builder("switchboard.request.duration")
            .description("Time from receiving a request to its last byte")
            .tags("model", model, "endpoint", endpoint, "stream", k.c())
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(10))
            .register(registry)).record(durationNanos, TimeUnit.NANOSECONDS);
  }

  /** The gap between two pieces of generated text of one stream, as the client gets them. */
  public void interToken(String requested, long nanos) {
    String model = models.of(requested);
    timers.computeIfAbsent(new MeterKey("itl", model, null, null),
        k -> Timer.builder("switchboard.inter.token.latency")
            .description("Time between consecutive pieces of generated text of a stream")
            .tags("model", model)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void firstToken(String requested, long nanos) {
    recent.firstToken(nanos / 1_000_000);
    String model = models.of(requested);
    timers.computeIfAbsent(new MeterKey("ttft", model, null, null),
        k -> Timer.builder("switchboard.time.to.first.token")
            .description("Time from receiving a request to its first generated text")
            .tags("model", model)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void tokens(String requested, Usage usage) {
    String model = models.of(requested);
    counters.computeIfAbsent(new MeterKey("tokens", model, "prompt", null),
        k -> Counter.builder("switchboard.tokens").tags("model", model, "type", "prompt").register(registry))
        .increment(usage.promptTokens());
    counters.computeIfAbsent(new MeterKey("tokens", model, "completion", null),
        k -> Counter.builder("switchboard.tokens").tags("model", model, "type", "completion").register(registry))
        .increment(usage.completionTokens());
  }

  public void routed(String requested, String policy, String reason, int matchedChars, int promptChars) {
    String model = models.of(requested);
    counters.computeIfAbsent(new MeterKey("decisions", model, policy, reason),
        k -> Counter.builder("switchboard.router.decisions")
            .description("Workers picked by the router, by policy and reason")
            .tags("model", model, "policy", policy, "reason", reason)
            .register(registry)).increment();
    counters.computeIfAbsent(new MeterKey("promptChars", model, null, null),
        k -> Counter.builder("switchboard.router.prompt.chars").tags("model", model)
            .description("Prompt characters routed")
            .register(registry)).increment(promptChars);
    counters.computeIfAbsent(new MeterKey("matchedChars", model, null, null),
        k -> Counter.builder("switchboard.router.prefix.matched.chars").tags("model", model)
            .description("Prompt characters the router expected the chosen worker to have cached")
            .register(registry)).increment(matchedChars);
  }

  public void prefixesShared(String direction, int bytes) {
    Counter.builder("switchboard.router.prefix.shared.bytes").tags("direction", direction)
        .description("Prefix-index updates exchanged with other gateways")
        .baseUnit("bytes")
        .register(registry).increment(bytes);
  }

  /** Requests being served now, queued ones included. */
  public int inFlight() {
    return inFlight.get();
  }

  public void queued(String requested) {
    String model = models.of(requested);
    Counter.builder("switchboard.admission.queued")
        .description("Requests that waited in the gateway because every worker of their model was full")
        .tags("model", model)
        .register(registry).increment();
  }

  public void migrated(String requested) {
    String model = models.of(requested);
    Counter.builder("switchboard.stream.migrations")
        .description("Streams continued on another worker after theirs failed mid-generation")
        .tags("model", model)
        .register(registry).increment();
  }

  /** A request for {@code alias} passed over its model {@code from} to {@code to}; every tag bounded as models are. */
  public void aliasFellBack(String alias, String from, String to) {
    Counter.builder("switchboard.alias.fallbacks")
        .description("Requests for an alias that passed over one of its models to the next (gateway.models.aliases)")
        .tags("alias", models.of(alias), "from", models.of(from), "to", models.of(to))
        .register(registry).increment();
  }

  public void attemptFailed(String requested) {
    String model = models.of(requested);
    Counter.builder("switchboard.worker.attempts.failed")
        .description("Offers of a request that a worker refused or could not take")
        .tags("model", model)
        .register(registry).increment();
  }

  /**
   * A client turned away before its request reached a worker: {@code missing_api_key}, {@code invalid_api_key},
   * {@code model_not_allowed}, {@code rate_limit_requests}, {@code rate_limit_tokens}, {@code connection_cap},
   * {@code read_timeout}.
   */
  public void refused(String reason) {
    Counter.builder("switchboard.client.refusals")
        .description("Clients turned away by the gateway's keys, rate limits and connection limits, by reason")
        .tags("reason", reason)
        .register(registry).increment();
  }
}
