package io.switchboard.gateway.exchange.listeners;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.gateway.exchange.ExchangeFacts;
import io.switchboard.gateway.exchange.ExchangeOutcome;
import io.switchboard.gateway.http.ApiError;
import io.switchboard.gateway.metrics.GatewayMetrics;
import io.switchboard.gateway.routing.Pick;
import io.switchboard.protocol.GenerateError;
import io.switchboard.protocol.Usage;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsListenerTest {

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final GatewayMetrics metrics = new GatewayMetrics(registry, () -> 0, model -> true, 10);
  private final MetricsListener listener = new MetricsListener(metrics);

  private double counted(String name, String... tags) {
    var counter = registry.find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void aCompletedRequestIsCountedByModelAndByItsDialectsEndpoint() {
    ExchangeFacts exchange = ListenerFixtures.facts("responses", "m", true, null);

    listener.started(exchange);
    assertThat(metrics.inFlight()).isEqualTo(1);
    listener.routed(exchange, "prefix-aware", new Pick(null, "prefix", 3, 2), 5);
    listener.firstToken(exchange, 20_000_000);
    listener.interToken(exchange, 4_000_000);
    listener.interToken(exchange, 6_000_000);
    Usage usage = new Usage(5, 3);
    listener.generationEnded(exchange, usage, 3);
    listener.finished(new ExchangeOutcome(exchange, 200, null, usage, "stop", "w1", "prefix", 20_000_000,
        50_000_000, 0, 3));

    assertThat(metrics.inFlight()).isZero();
    assertThat(counted("switchboard.requests", "model", "m", "endpoint", "responses", "status", "200")).isEqualTo(1);
    var duration = registry.find("switchboard.request.duration").tags("model", "m", "endpoint", "responses",
        "stream", "true").timer();
    assertThat(duration).isNotNull();
    assertThat(duration.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(50);
    assertThat(counted("switchboard.router.decisions", "model", "m", "policy", "prefix-aware", "reason", "prefix"))
        .isEqualTo(1);
    assertThat(counted("switchboard.router.prompt.chars", "model", "m")).isEqualTo(5);
    assertThat(counted("switchboard.router.prefix.matched.chars", "model", "m")).isEqualTo(3);
    assertThat(registry.find("switchboard.time.to.first.token").tags("model", "m").timer().count()).isEqualTo(1);
    assertThat(registry.find("switchboard.inter.token.latency").tags("model", "m").timer().count()).isEqualTo(2);
    assertThat(counted("switchboard.tokens", "model", "m", "type", "prompt")).isEqualTo(5);
    assertThat(counted("switchboard.tokens", "model", "m", "type", "completion")).isEqualTo(3);
  }

  @Test
  void aFailedRequestCountsItsAttemptsQueueingAndMigrationButNoTokens() {
    ExchangeFacts exchange = ListenerFixtures.facts("chat_completions", "m", false, null);
    GenerateError busy = GenerateError.of(GenerateError.Code.WORKER_BUSY, "full", "w1");

    listener.started(exchange);
    listener.attemptFailed(exchange, busy);
    listener.queued(exchange);
    listener.migrated(exchange, busy);
    listener.generationEnded(exchange, null, 4);
    listener.finished(new ExchangeOutcome(exchange, 503, new ApiError(503, "service_unavailable_error",
        "queue_timeout", "model", "waited too long"), null, null, "w1", "load", -1, 1_000_000, 1, 4));

    assertThat(metrics.inFlight()).isZero();
    assertThat(counted("switchboard.worker.attempts.failed", "model", "m")).isEqualTo(1);
    assertThat(counted("switchboard.admission.queued", "model", "m")).isEqualTo(1);
    assertThat(counted("switchboard.stream.migrations", "model", "m")).isEqualTo(1);
    assertThat(counted("switchboard.requests", "model", "m", "endpoint", "chat_completions", "status", "503"))
        .isEqualTo(1);
    assertThat(registry.find("switchboard.tokens").counters()).isEmpty();
  }
}
