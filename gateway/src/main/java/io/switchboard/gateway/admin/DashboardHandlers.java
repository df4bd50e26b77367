package io.switchboard.gateway.admin;

import io.switchboard.gateway.cluster.ClusterHandlers;
import io.switchboard.gateway.exchange.GatewayServices;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /dashboard}: one self-contained page that shows the cluster live; {@code GET /dashboard/events}:
 * the SSE feed it reads, a snapshot every second (the cluster as /admin/cluster shows it, this gateway's
 * traffic over the last 10 s, and its open requests). A browser that stops reading is not written to until it
 * catches up: a slow dashboard skips snapshots instead of filling memory.
 */
public final class DashboardHandlers {

  static final long INTERVAL_MS = 1000;
  private static final Buffer PAGE = page();

  private final Vertx vertx;
  private final GatewayServices services;
  private final ClusterHandlers cluster;

  public DashboardHandlers(Vertx vertx, GatewayServices services, ClusterHandlers cluster) {
    this.vertx = vertx;
    this.services = services;
    this.cluster = cluster;
  }

  public void page(RoutingContext ctx) {
    ctx.response().putHeader("content-type", "text/html; charset=utf-8")
        .putHeader("cache-control", "no-store").end(PAGE);
  }

  public void events(RoutingContext ctx) {
    HttpServerResponse response = ctx.response();
    response.setChunked(true)
        .putHeader("content-type", "text/event-stream")
        .putHeader("cache-control", "no-cache");
    send(response);
    long timer = vertx.setPeriodic(INTERVAL_MS, id -> {
      if (!response.writeQueueFull()) {
        send(response);
      }
    });
    response.closeHandler(v -> vertx.cancelTimer(timer));
  }

  /** One snapshot: what the page draws. */
  public JsonObject snapshot() {
    return new JsonObject()
        .put("at", System.currentTimeMillis())
        .put("cluster", cluster.clusterView())
        .put("traffic", services.metrics().recent().snapshot(10))
        .put("inFlight", services.inFlight().size())
        .put("requests", services.inFlight().snapshot(null));
  }

  private void send(HttpServerResponse response) {
    response.write("data: " + snapshot().encode() + "\n\n");
  }

  private static Buffer page() {
    try (InputStream in = DashboardHandlers.class.getResourceAsStream("/dashboard/index.html")) {
      if (in == null) {
        throw new IllegalStateException("dashboard/index.html is missing from the gateway jar");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
