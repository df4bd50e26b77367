package io.switchboard.gateway.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.switchboard.gateway.registry.WorkerState;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The cluster as this gateway sees it, as gauges refreshed every second: per worker its running and queued
 * generations (from its load report), whether it is routable, and this gateway's circuit state for it; per
 * model the requests waiting in the gateway's admission queue; the cluster's members. Workers and models
 * that disappear are dropped from the scrape.
 */
public final class ClusterGauges {

  private final MultiGauge running;
  private final MultiGauge queued;
  private final MultiGauge routable;
  private final MultiGauge circuitOpen;
  private final MultiGauge admissionWaiting;
  private final MultiGauge members;

  public ClusterGauges(MeterRegistry registry) {
    running = MultiGauge.builder("switchboard.worker.running")
        .description("Generations running on a worker, from its last load report").register(registry);
    queued = MultiGauge.builder("switchboard.worker.queued")
        .description("Generations admitted by a worker and waiting for a slot").register(registry);
    routable = MultiGauge.builder("switchboard.worker.routable")
        .description("1 when this gateway routes to the worker, 0 when it is excluded").register(registry);
    circuitOpen = MultiGauge.builder("switchboard.worker.circuit.open")
        .description("1 while this gateway's circuit breaker keeps requests away from the worker").register(registry);
    admissionWaiting = MultiGauge.builder("switchboard.admission.waiting")
        .description("Requests waiting in this gateway for a worker of their model to have room").register(registry);
    members = MultiGauge.builder("switchboard.cluster.members")
        .description("Members of the cluster as this node sees them").register(registry);
  }

  /**
   * @param circuitState the circuit state of a worker as /admin/cluster names it (closed, open, half-open)
   * @param waiting      requests waiting per model
   */
  public void update(List<WorkerState> workers, java.util.function.Function<String, String> circuitState,
                     Map<String, Integer> waiting, int memberCount) {
    running.register(rows(workers, w -> w.load() == null ? 0 : w.load().inFlight()), true);
    queued.register(rows(workers, w -> w.load() == null ? 0 : w.load().queued()), true);
    routable.register(rows(workers, w -> w.routable() ? 1 : 0), true);
    circuitOpen.register(rows(workers, w -> "closed".equals(circuitState.apply(w.workerId())) ? 0 : 1), true);
    List<MultiGauge.Row<?>> perModel = new ArrayList<>();
    waiting.forEach((model, count) -> perModel.add(MultiGauge.Row.of(Tags.of("model", model), count)));
    admissionWaiting.register(perModel, true);
    members.register(List.of(MultiGauge.Row.of(Tags.empty(), memberCount)), true);
  }

  private static List<MultiGauge.Row<?>> rows(List<WorkerState> workers, ToIntFunction<WorkerState> value) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (WorkerState worker : workers) {
      rows.add(MultiGauge.Row.of(Tags.of("worker", worker.workerId(), "model", String.join(",", worker.models()),
          "node", worker.nodeId()), value.applyAsInt(worker)));
    }
    return rows;
  }
}
