package io.switchboard.gateway.registry;

import io.switchboard.protocol.Addresses;
import io.switchboard.protocol.GatewayReport;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every gateway in the cluster, as their own reports describe them: this gateway publishes its report every
 * {@link #REPORT_INTERVAL_MS} and keeps the others' until they fall silent or their node leaves. Feeds
 * {@code /admin/cluster}. Used only on the gateway verticle's event loop.
 */
public final class GatewayDirectory {

  static final long REPORT_INTERVAL_MS = 2000;
  /** A gateway not heard from for this long is dropped from the list. */
  static final long SILENCE_MS = 3 * REPORT_INTERVAL_MS;

  private final Vertx vertx;
  private final Supplier<GatewayReport> self;
  private final Map<String, GatewayReport> gateways = new HashMap<>();
  private final Map<String, Long> receivedNanos = new HashMap<>();
  private MessageConsumer<JsonObject> reports;
  private MessageConsumer<String> memberLeft;
  private long timer = -1;

  /** @param self this gateway's report as of now */
  public GatewayDirectory(Vertx vertx, Supplier<GatewayReport> self) {
    this.vertx = vertx;
    this.self = self;
  }

  public Future<Void> start() {
    reports = vertx.eventBus().consumer(Addresses.GATEWAY_REPORTS, message -> {
      GatewayReport report = GatewayReport.fromJson(message.body());
      if (report.gatewayId() != null) {
        gateways.put(report.gatewayId(), report);
        receivedNanos.put(report.gatewayId(), System.nanoTime());
      }
    });
    memberLeft = vertx.eventBus().localConsumer(Addresses.MEMBER_LEFT_LOCAL, message -> {
      gateways.values().removeIf(report -> message.body().equals(report.nodeId()));
      receivedNanos.keySet().retainAll(gateways.keySet());
    });
    timer = vertx.setPeriodic(0, REPORT_INTERVAL_MS, id -> {
      vertx.eventBus().publish(Addresses.GATEWAY_REPORTS, self.get().toJson());
      long now = System.nanoTime();
      receivedNanos.entrySet().removeIf(entry -> now - entry.getValue() > SILENCE_MS * 1_000_000);
      gateways.keySet().retainAll(receivedNanos.keySet());
    });
    return reports.completion();
  }

  /** Every gateway heard from recently, this one first (with its state as of now). */
  public List<GatewayReport> gateways() {
    GatewayReport me = self.get();
    List<GatewayReport> others = new ArrayList<>(gateways.values());
    others.removeIf(report -> report.gatewayId().equals(me.gatewayId()));
    others.sort(Comparator.comparing(GatewayReport::nodeId).thenComparing(GatewayReport::gatewayId));
    List<GatewayReport> all = new ArrayList<>();
    all.add(me);
    all.addAll(others);
    return all;
  }

  /** Whether another gateway has reported recently (so sharing routing knowledge has someone to tell). */
  public boolean othersPresent() {
    String me = self.get().gatewayId();
    for (GatewayReport report : gateways.values()) {
      if (!report.gatewayId().equals(me)) {
        return true;
      }
    }
    return false;
  }

  public Future<Void> stop() {
    vertx.cancelTimer(timer);
    Future<Void> left = memberLeft == null ? Future.succeededFuture() : memberLeft.unregister();
    return reports == null ? left : Future.join(left, reports.unregister()).mapEmpty();
  }
}
